// Copying one blob between volumes for the jobs (rebalance moves, verify repairs), streamed in
// pieces so a 1 GB blob never sits in memory.
#pragma once

#include "asio.h"
#include "jobs/throttle.h"
#include "volume/pool.h"

#include "mkv/checksum.h"
#include "mkv/error.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace mkv {

// Index entries a job reads, plans and journals together.
inline constexpr std::size_t job_page_size = 1000;
// How much of a blob a job holds in memory at once while it reads or copies it.
inline constexpr std::size_t job_piece_size = 256 * 1024;

// Streams the file at from on source into the file at to on target. Fails unless source
// answers 200 with exactly size bytes whose MD5 is md5 (when known), and target stores them.
// The MD5 is checked before the last piece goes out, so a corrupt copy is never stored: the
// target discards the cut-off upload. throttle, when given, paces the bytes read.
net::awaitable<Result<void>> copy_blob(VolumePool& source, std::string from, VolumePool& target,
                                       std::string to, std::uint64_t size,
                                       std::optional<Md5> md5, Throttle* throttle = nullptr);

}  // namespace mkv
