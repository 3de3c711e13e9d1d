// Hashing a blob's pieces beside the IO: a PUT relaying its body and a verify reading copies
// hand large pieces to a pool of hashing threads, so the MD5 of one piece runs while the IO
// thread moves bytes (and other blobs) along.
#pragma once

#include "asio.h"

#include "mkv/checksum.h"
#include "mkv/sha256.h"

#include <cstddef>
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

}  // namespace mkv
