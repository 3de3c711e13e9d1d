// Runs a set of coroutines concurrently and waits for all of them, all at once (run_all) or a
// bounded number at a time (for_each_bounded).
#pragma once

#include "asio.h"

#include <boost/asio.hpp>
#include <boost/asio/any_completion_handler.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <utility>

namespace mkv {

// Runs make_op(0) .. make_op(n - 1) (each returning net::awaitable<void>) concurrently on
// the calling coroutine's executor and completes when all have. An exception escaping one of
// them is dropped.
template <class MakeOp>
net::awaitable<void> run_all(std::size_t n, MakeOp make_op) {
  if (n == 0) co_return;
  if (n == 1) {
    co_await make_op(0);
    co_return;
  }
  auto executor = co_await net::this_coro::executor;
  // The last operation to finish resumes this coroutine. (A counter and one handler: Asio's
  // experimental parallel_group did the same with a dozen allocations per call.)
  struct Join {
    std::atomic<std::size_t> running;
    std::optional<net::any_completion_handler<void()>> done;  // emplaced: assigning one
                                                              // recurses in Asio 1.81
  };
  Join join{n, std::nullopt};
  co_await net::async_initiate<decltype(net::use_awaitable), void()>(
      [&](auto handler) {
        join.done.emplace(std::move(handler));
        for (std::size_t i = 0; i < n; ++i) {
          net::co_spawn(executor, make_op(i), [&join, executor](std::exception_ptr) {
            if (join.running.fetch_sub(1) != 1) return;
            net::post(executor, [h = std::move(*join.done)]() mutable { std::move(h)(); });
          });
        }
      },
      net::use_awaitable);
}

namespace detail {

// Runs work(i) for the indexes next, next + 1, ... below count, one after the other.
template <class Work>
net::awaitable<void> take_each(std::size_t& next, std::size_t count, Work& work) {
  while (next < count) {
    const std::size_t i = next++;
    co_await work(i);
  }
}

}  // namespace detail

// Runs work(0) .. work(count - 1) (each returning net::awaitable<void>) on the calling
// coroutine's executor with at most `concurrency` of them in flight, and completes when all
// have.
template <class Work>
net::awaitable<void> for_each_bounded(std::size_t count, std::size_t concurrency, Work work) {
  if (count == 0) co_return;
  std::size_t next = 0;
  co_await run_all(std::min(count, std::max<std::size_t>(concurrency, 1)),
                   [&](std::size_t) { return detail::take_each(next, count, work); });
}

}  // namespace mkv
