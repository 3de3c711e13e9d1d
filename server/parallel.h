// Runs a set of coroutines concurrently and waits for all of them.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <cstddef>
#include <vector>

namespace mkv {

namespace net = boost::asio;

// Runs make_op(0) .. make_op(n - 1) (each returning net::awaitable<void>) concurrently on
// the calling coroutine's executor and completes when all have.
template <class MakeOp>
net::awaitable<void> run_all(std::size_t n, MakeOp make_op) {
  if (n == 0) co_return;  // an empty parallel group would never complete
  if (n == 1) {
    co_await make_op(0);
    co_return;
  }
  auto executor = co_await net::this_coro::executor;
  using Op = decltype(net::co_spawn(executor, make_op(0), net::deferred));
  std::vector<Op> ops;
  ops.reserve(n);
  for (std::size_t i = 0; i < n; ++i) ops.push_back(net::co_spawn(executor, make_op(i), net::deferred));
  co_await net::experimental::make_parallel_group(std::move(ops))
      .async_wait(net::experimental::wait_for_all(), net::use_awaitable);
}

}  // namespace mkv
