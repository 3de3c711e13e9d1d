// The wait of a background loop inside serve (auto-repair, the upload expiry sweep): an
// interval that ends early once the gate closes, so a stop is not held up.
#pragma once

#include "asio.h"
#include "http/request_gate.h"

#include <boost/asio.hpp>

#include <algorithm>
#include <chrono>

namespace mkv {

// Waits on timer for interval, looking at gate every 50 ms; returns early once it is closed.
inline net::awaitable<void> wait_unless_closed(const RequestGate& gate, net::steady_timer& timer,
                                               std::chrono::steady_clock::duration interval) {
  const auto due = std::chrono::steady_clock::now() + interval;
  while (!gate.closed() && std::chrono::steady_clock::now() < due) {
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50), due - std::chrono::steady_clock::now()));
    co_await timer.async_wait(as_values);
  }
}

}  // namespace mkv
