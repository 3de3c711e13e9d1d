// A byte rate for jobs that read or copy blobs (--rate MB/s), so they leave the volumes to the
// requests they serve: a coroutine that read n bytes waits until the rate allows them. Used by
// one thread (the job's), so it needs no lock.
#pragma once

#include "asio.h"

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace mkv {

class Throttle {
 public:
  // bytes_per_second 0: no limit.
  explicit Throttle(double bytes_per_second) : rate_(bytes_per_second) {}

  // Completes once n more bytes fit in the rate since the throttle's start.
  net::awaitable<void> take(std::size_t n) {
    if (rate_ <= 0) co_return;
    const auto now = std::chrono::steady_clock::now();
    if (bytes_ == 0) start_ = now;
    bytes_ += static_cast<double>(n);
    const auto due = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(bytes_ / rate_));
    if (due <= now) co_return;
    net::steady_timer wait(co_await net::this_coro::executor, due);
    co_await wait.async_wait(as_values);
  }

 private:
  double rate_;
  double bytes_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace mkv
