// Driving a steppable job (jobs/) from the command line: its steps run one after the other on
// the calling thread while a ticker reports its progress every tenth of a second.
#pragma once

#include "run_all.h"
#include "volume/transport.h"

#include "mkv/error.h"

#include <boost/asio.hpp>

#include <chrono>
#include <exception>

namespace mkv::cli {

namespace detail {

// Runs job's steps until none is left, one fails or one throws, then stops the ticker.
template <class Job>
net::awaitable<void> steps_until_done(Job& job, net::steady_timer& ticker, bool& done,
                                      Result<void>& outcome, std::exception_ptr& failure) {
  try {
    for (;;) {
      auto more = co_await job.step();
      if (!more || !*more) {
        if (!more) outcome = more.error();
        break;
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  done = true;
  ticker.cancel();
}

// Calls report() every interval until done.
template <class Report>
net::awaitable<void> tick(net::steady_timer& ticker, const bool& done, Report& report) {
  while (!done) {
    ticker.expires_after(std::chrono::milliseconds(100));
    co_await ticker.async_wait(as_values);
    if (done) break;
    report();
  }
}

}  // namespace detail

// Runs job (which has `net::awaitable<Result<bool>> step()`, true while work is left) to its
// end on io, calling report() about every 100 ms meanwhile; returns the first failed step's
// error. An exception (a bug, not an IO failure) is rethrown.
template <class Job, class Report>
Result<void> drive(net::io_context& io, Job& job, Report report) {
  net::steady_timer ticker(io);
  bool done = false;
  Result<void> outcome;
  std::exception_ptr failure;
  net::co_spawn(io, run_all(2, [&](std::size_t i) {
                  return i == 0 ? detail::steps_until_done(job, ticker, done, outcome, failure)
                                : detail::tick(ticker, done, report);
                }),
                net::detached);
  io.run();
  if (failure) std::rethrow_exception(failure);
  return outcome;
}

}  // namespace mkv::cli
