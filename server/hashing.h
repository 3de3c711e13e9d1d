// Hashing a blob's pieces beside the IO: a PUT relaying its body and a verify reading copies
// hand large pieces to a pool of hashing threads, so the MD5 of one piece runs while the IO
// thread moves bytes (and other blobs) along.
#pragma once

#include "asio.h"

#include <boost/asio/experimental/concurrent_channel.hpp>

#include "mkv/checksum.h"
#include "mkv/sha256.h"

#include <cstddef>
#include <memory>
#include <span>

namespace mkv {

// Pieces at least this big are hashed on the pool; smaller ones inline, where the hashing costs
// less than handing it over.
inline constexpr std::size_t hash_elsewhere_from = 64 * 1024;

// Adds piece to md5 (and to sha256 when given: an S3 PUT whose signature covers the body's
// SHA-256): on one of hashers' threads for a large piece, inline for a small one. The caller's
// coroutine resumes on its own executor; the streams and piece must stay put until then, and
// one stream is given one piece at a time.
inline net::awaitable<void> hash_piece(net::thread_pool& hashers, Md5Stream& md5,
                                       std::span<const char> piece,
                                       Sha256Stream* sha256 = nullptr) {
  const auto hash = [&md5, sha256, piece] {
    md5.update(piece);
    if (sha256) sha256->update(piece);
  };
  if (piece.size() < hash_elsewhere_from) {
    hash();
    co_return;
  }
  co_await net::co_spawn(
      hashers,
      [&hash]() -> net::awaitable<void> {
        hash();
        co_return;
      },
      net::use_awaitable);
}

// Hashes the pieces of one body in order on the hashers pool, behind the IO that hands them
// over: the relay goes on reading and sending while up to a few pieces wait to be hashed,
// instead of waiting for each piece's hash before the next. A piece's bytes must stay put until
// a call to hashed() has counted it; every piece handed over must be counted (all()) before
// the hasher is destroyed.
class PieceHasher {
 public:
  // At most `capacity` pieces may be handed over and not yet counted.
  PieceHasher(net::thread_pool& hashers, const net::any_io_executor& io, Md5Stream& md5,
              Sha256Stream* sha256, std::size_t capacity)
      : order_(net::make_strand(hashers)),
        md5_(md5),
        sha256_(sha256),
        hashed_(std::make_shared<Acks>(io, capacity)) {}
  PieceHasher(const PieceHasher&) = delete;
  PieceHasher& operator=(const PieceHasher&) = delete;

  // Hands the next piece over. A small one with nothing ahead of it is hashed at once, where
  // that costs less than handing it over.
  void add(std::span<const char> piece) {
    ++pending_;
    if (piece.size() < hash_elsewhere_from && pending_ == 1) {
      hash(piece);
      hashed_->try_send(boost::system::error_code{});
      return;
    }
    // The acknowledgement wakes the relay, which may finish and destroy this hasher before
    // try_send returns on the hashing thread: the job holds the channel itself, and touches
    // nothing of the hasher after the hash.
    net::post(order_, [this, acks = hashed_, piece] {
      hash(piece);
      acks->try_send(boost::system::error_code{});
    });
  }
  // Waits until the oldest piece not yet counted is hashed, and counts it.
  net::awaitable<void> hashed() {
    co_await hashed_->async_receive(as_values);
    --pending_;
  }
  // Waits until every piece handed over is hashed.
  net::awaitable<void> all() {
    while (pending_ > 0) co_await hashed();
  }

 private:
  using Acks = net::experimental::concurrent_channel<void(boost::system::error_code)>;

  void hash(std::span<const char> piece) {
    md5_.update(piece);
    if (sha256_) sha256_->update(piece);
  }

  net::strand<net::thread_pool::executor_type> order_;  // one piece at a time, in order
  Md5Stream& md5_;
  Sha256Stream* sha256_;
  std::shared_ptr<Acks> hashed_;  // one acknowledgement per piece hashed, in order
  std::size_t pending_ = 0;
};

}  // namespace mkv
