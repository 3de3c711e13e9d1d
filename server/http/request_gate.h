// Counts requests in progress and, once closed, admits no more: graceful shutdown closes it
// and waits for the count to fall to zero.
#pragma once

#include <atomic>
#include <cstdint>

namespace mkv {

class RequestGate {
 public:
  // Returns true and counts the request, or false once the gate is closed.
  bool enter() {
    std::uint64_t state = state_.load();
    do {
      if (state & closed_bit) return false;
    } while (!state_.compare_exchange_weak(state, state + one));
    return true;
  }
  void leave() { state_.fetch_sub(one); }
  void close() { state_.fetch_or(closed_bit); }
  bool closed() const { return state_.load() & closed_bit; }
  std::uint64_t active() const { return state_.load() >> 1; }

 private:
  static constexpr std::uint64_t closed_bit = 1;
  static constexpr std::uint64_t one = 2;
  std::atomic<std::uint64_t> state_{0};
};

}  // namespace mkv
