// Per-key write serialization: PUTs and DELETEs of one key run one at a time, in arrival
// order, without blocking a thread. A mutex guards only the table of keys, never an IO.
//
// On an index that several servers share (PostgreSQL), a writer that has the key here also
// takes the key's lease in the database, so that writes of one key are serialized across every
// server: in this process by arrival order, between servers by whoever takes the lease first.
// The lease passes to this server's next writer of the key without a round trip being needed to
// give it up, and is dropped once no writer here wants it; a server that dies loses its leases
// when they expire (PostgresIndex::lease_time, renewed while the server lives).
#pragma once

#include "asio.h"
#include "backend.h"
#include "log.h"
#include "shared.h"

#include "mkv/key.h"

#include <boost/asio.hpp>
#include <boost/asio/any_completion_handler.hpp>

#include <algorithm>
#include <chrono>

#include <deque>
#include <map>
#include <memory>
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
      : locks_(std::exchange(other.locks_, nullptr)),
        key_(std::move(other.key_)),
        lease_(std::move(other.lease_)),
        lease_failed_(other.lease_failed_),
        executor_(std::move(other.executor_)) {}
  KeyGuard& operator=(KeyGuard&&) = delete;
  ~KeyGuard();

  // Whether the key's lease could not be taken (the database failed): the write must not go on.
  bool lease_failed() const { return lease_failed_; }

 private:
  friend class KeyLocks;
  KeyLocks* locks_ = nullptr;
  std::string key_;
  std::string lease_;  // the token of the key's lease held for this guard ("" for none)
  bool lease_failed_ = false;
  net::any_io_executor executor_;  // where the lease is given up from
};

class KeyLocks {
 public:
  // shared: the index when other servers share it (its leases then serialize writes across
  // them); nullptr when this process owns the index alone.
  explicit KeyLocks(IndexBackend* shared = nullptr) : shared_(shared) {}

  // Completes with the key's lock once every earlier writer of the key has released it (and,
  // on a shared index, once no other server holds the key's lease).
  net::awaitable<KeyGuard> acquire(std::string key) {
    auto executor = co_await net::this_coro::executor;
    co_await net::async_initiate<decltype(net::use_awaitable), void()>(
        [this, &key, &executor](auto handler) { enqueue(key, {executor, std::move(handler)}); },
        net::use_awaitable);
    KeyGuard guard(this, std::move(key));
    guard.executor_ = executor;
    if (shared_) co_await take_key_lease(guard);
    co_return guard;
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

  // Takes the lease of guard's key, waiting while another server holds it (it gives it up, or
  // its lease expires). A failing database is retried briefly, then the guard says so.
  net::awaitable<void> take_key_lease(KeyGuard& guard) {
    const std::string token = lease_token(*shared_);
    auto pause = std::chrono::milliseconds(2);
    int failures = 0;
    for (;;) {
      auto taken = co_await take_lease(*shared_, guard.key_, token);
      if (taken && *taken) {
        guard.lease_ = token;
        co_return;
      }
      if (!taken && ++failures == 3) {
        log_line("cannot take the lease of " + guard.key_ + ": " + taken.error().detail);
        guard.lease_failed_ = true;
        co_return;
      }
      net::steady_timer wait(co_await net::this_coro::executor, pause);
      co_await wait.async_wait(net::use_awaitable);
      pause = std::min(pause * 2, std::chrono::milliseconds(100));
    }
  }

  // Drops the lease token holds on key, in the background: a later writer's lease has another
  // token, so a drop that arrives after it changes nothing.
  void drop_key_lease(const std::string& key, std::string token, const net::any_io_executor& ex) {
    // The strings live on the heap, owned by the coroutine's frame, and the lambda captures only
    // pointers: GCC 12 frees class objects captured by a coroutine lambda (or passed to a
    // coroutine by value) twice.
    auto* held = new std::pair<std::string, std::string>(key, std::move(token));
    net::co_spawn(
        ex,
        [index = shared_, held]() -> net::awaitable<void> {
          const std::unique_ptr<std::pair<std::string, std::string>> owned(held);
          co_await drop_lease(*index, owned->first, owned->second);
        },
        net::detached);
  }

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

  // Gives the key to its next writer here, or else gives up the lease (token, if any; ex: where
  // to give it up from).
  void release(const std::string& key, std::string token, const net::any_io_executor& ex) {
    // Move-constructed, never move-assigned: assigning an any_completion_handler recurses
    // without end in Asio 1.81.
    std::optional<Waiter> next;
    {
      std::lock_guard lock(mutex_);
      auto it = slots_.find(key);
      if (it == slots_.end()) return;
      if (it->second.waiters.empty()) {
        slots_.erase(it);
      } else {
        next.emplace(std::move(it->second.waiters.front()));
        it->second.waiters.pop_front();
      }
    }
    if (next) {
      resume(std::move(*next));  // this server keeps the lease: the next writer renews it
    } else if (!token.empty()) {
      drop_key_lease(key, std::move(token), ex);
    }
  }

  static void resume(Waiter waiter) {
    net::post(waiter.executor, [h = std::move(waiter.handler)]() mutable { std::move(h)(); });
  }

  IndexBackend* shared_;
  mutable std::mutex mutex_;
  std::map<std::string, Slot, std::less<>> slots_;
};

inline KeyGuard::~KeyGuard() {
  if (locks_) locks_->release(key_, std::move(lease_), executor_);
}

}  // namespace mkv
