// Hashing a blob's pieces beside the IO: a PUT relaying its body and a verify reading copies
// hand large pieces to a pool of hashing threads, so the MD5 of one piece runs while the IO
// thread moves bytes (and other blobs) along.
#pragma once

#include "asio.h"

#include "mkv/checksum.h"

#include <cstddef>
#include <span>

namespace mkv {

// Pieces at least this big are hashed on the pool; smaller ones inline, where the hashing costs
// less than handing it over.
inline constexpr std::size_t hash_elsewhere_from = 64 * 1024;

// Adds piece to md5: on one of hashers' threads for a large piece, inline for a small one. The
// caller's coroutine resumes on its own executor; md5 and piece must stay put until then, and
// one md5 is given one piece at a time.
inline net::awaitable<void> hash_piece(net::thread_pool& hashers, Md5Stream& md5,
                                       std::span<const char> piece) {
  if (piece.size() < hash_elsewhere_from) {
    md5.update(piece);
    co_return;
  }
  co_await net::co_spawn(
      hashers,
      [&md5, piece]() -> net::awaitable<void> {
        md5.update(piece);
        co_return;
      },
      net::use_awaitable);
}

}  // namespace mkv
