// Per-key write serialization: PUTs and DELETEs of one key run one at a time, in arrival
// order, without blocking a thread. A mutex guards only the table of keys, never an IO.
#pragma once

#include "asio.h"

#include "mkv/key.h"

#include <boost/asio.hpp>
#include <boost/asio/any_completion_handler.hpp>

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mkv {

class KeyLocks;

// Holds the write lock of one key until destroyed.
class KeyGuard {
 public:
  KeyGuard() = default;
  KeyGuard(KeyLocks* locks, std::string key) : locks_(locks), key_(std::move(key)) {}
  KeyGuard(KeyGuard&& other) noexcept
      : locks_(std::exchange(other.locks_, nullptr)), key_(std::move(other.key_)) {}
  KeyGuard& operator=(KeyGuard&&) = delete;
  ~KeyGuard();

 private:
  KeyLocks* locks_ = nullptr;
  std::string key_;
};

class KeyLocks {
 public:
  // Completes with the key's lock once every earlier writer of the key has released it.
  net::awaitable<KeyGuard> acquire(std::string key) {
    auto executor = co_await net::this_coro::executor;
    co_await net::async_initiate<decltype(net::use_awaitable), void()>(
        [this, &key, &executor](auto handler) { enqueue(key, {executor, std::move(handler)}); },
        net::use_awaitable);
    co_return KeyGuard(this, std::move(key));
  }

  // Returns a key other than `key` that is being written right now and would collide with it
  // on a volume's filesystem (a parent "a" of "a/b", or a child "a/b" of "a"), if any.
  std::optional<std::string> busy_relative(std::string_view key) const {
    std::lock_guard lock(mutex_);
    for (const auto parent : parent_keys(key)) {
      if (slots_.contains(parent)) return std::string(parent);
    }
    const std::string prefix = child_prefix(key);
    if (auto it = slots_.lower_bound(prefix); it != slots_.end() && it->first.starts_with(prefix)) {
      return it->first;
    }
    return std::nullopt;
  }

 private:
  friend class KeyGuard;
  // A writer waiting for the key, and the executor its coroutine runs on.
  struct Waiter {
    net::any_io_executor executor;
    net::any_completion_handler<void()> handler;
  };

  // One locked key: its holder is implicit, waiters queue behind it.
  struct Slot {
    std::deque<Waiter> waiters;
  };

  void enqueue(const std::string& key, Waiter waiter) {
    {
      std::lock_guard lock(mutex_);
      auto [it, inserted] = slots_.try_emplace(key);
      if (!inserted) {
        it->second.waiters.push_back(std::move(waiter));
        return;
      }
    }
    resume(std::move(waiter));
  }

  void release(const std::string& key) {
    // Move-constructed, never move-assigned: assigning an any_completion_handler recurses
    // without end in Asio 1.81.
    std::optional<Waiter> next;
    {
      std::lock_guard lock(mutex_);
      auto it = slots_.find(key);
      if (it == slots_.end()) return;
      if (it->second.waiters.empty()) {
        slots_.erase(it);
        return;
      }
      next.emplace(std::move(it->second.waiters.front()));
      it->second.waiters.pop_front();
    }
    resume(std::move(*next));
  }

  static void resume(Waiter waiter) {
    net::post(waiter.executor, [h = std::move(waiter.handler)]() mutable { std::move(h)(); });
  }

  mutable std::mutex mutex_;
  std::map<std::string, Slot, std::less<>> slots_;
};

inline KeyGuard::~KeyGuard() {
  if (locks_) locks_->release(key_);
}

}  // namespace mkv
