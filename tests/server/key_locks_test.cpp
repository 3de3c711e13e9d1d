// KeyLocks in process: writers of one key take turns in arrival order, other keys never wait,
// and a key's parents and children being written are seen.
#include "in_process.h"

#include "index/key_locks.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace mkv;
using namespace mkv::test;
using namespace std::chrono_literals;

namespace {

// What the writers of one test saw.
struct Log {
  std::vector<int> order;  // writers in the order they got the lock
  int holding = 0;         // writers holding the lock right now
  int most = 0;            // the most that ever held it at once
};

// Takes key's lock as writer `number`, holds it for a while, and lets it go.
net::awaitable<void> writer(KeyLocks& locks, std::string key, int number, Log& log) {
  KeyGuard guard = co_await locks.acquire(std::move(key));
  log.order.push_back(number);
  log.most = std::max(log.most, ++log.holding);
  net::steady_timer hold(co_await net::this_coro::executor, 2ms);
  co_await hold.async_wait(as_values);
  --log.holding;
}

// Starts `count` writers of key one after the other, then waits for all of them.
net::awaitable<int> writers(KeyLocks& locks, std::string key, int count, Log& log) {
  auto executor = co_await net::this_coro::executor;
  int finished = 0;
  for (int i = 0; i < count; ++i) {
    net::co_spawn(executor, writer(locks, key, i, log),
                  [&finished](std::exception_ptr) { ++finished; });
  }
  net::steady_timer poll(executor);
  while (finished < count) {
    poll.expires_after(1ms);
    co_await poll.async_wait(as_values);
  }
  co_return finished;
}

// Holds key's lock until release is set, reporting when it has it.
net::awaitable<void> holder(KeyLocks& locks, std::string key, bool& held, const bool& release) {
  KeyGuard guard = co_await locks.acquire(std::move(key));
  held = true;
  net::steady_timer poll(co_await net::this_coro::executor);
  while (!release) {
    poll.expires_after(1ms);
    co_await poll.async_wait(as_values);
  }
}

// Takes key's lock, sets *got, and lets the lock go.
net::awaitable<void> take_once(KeyLocks& locks, std::string key, std::shared_ptr<bool> got) {
  KeyGuard guard = co_await locks.acquire(std::move(key));
  *got = true;
}

// Returns whether key's lock can be taken within half a second. (A taker that does not get it
// in time stays queued and takes it later.)
net::awaitable<bool> can_take(KeyLocks& locks, std::string key) {
  auto executor = co_await net::this_coro::executor;
  auto got = std::make_shared<bool>(false);
  net::co_spawn(executor, take_once(locks, std::move(key), got), net::detached);
  net::steady_timer poll(executor);
  for (int i = 0; i < 500 && !*got; ++i) {
    poll.expires_after(1ms);
    co_await poll.async_wait(as_values);
  }
  co_return *got;
}

}  // namespace

TEST_CASE("writers of one key take turns, in the order they came") {
  KeyLocks locks;  // declared first: it outlives the coroutines on io
  IoThread io;
  Log log;
  CHECK(io.run(writers(locks, "k", 8, log)) == 8);
  CHECK(log.order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(log.most == 1);
}

TEST_CASE("a held key holds up nobody else, and is free again once released") {
  KeyLocks locks;  // declared first: it outlives the coroutines on io
  IoThread io;
  bool held = false, release = false;
  net::co_spawn(io.io(), holder(locks, "a/b", held, release), net::detached);
  while (!io.run(can_take(locks, "other"))) {
  }
  CHECK(held);
  CHECK_FALSE(io.run(can_take(locks, "a/b")));  // held: the waiter gets it only later
  release = true;
  CHECK(io.run(can_take(locks, "a/b")));
}

TEST_CASE("busy_relative names a parent or child of the key that is being written") {
  KeyLocks locks;  // declared first: it outlives the coroutines on io
  IoThread io;
  bool held = false, release = false;
  net::co_spawn(io.io(), holder(locks, "a/b", held, release), net::detached);
  while (!held) std::this_thread::sleep_for(1ms);
  struct Case {
    std::string key;
    std::optional<std::string> busy;
  };
  const Case cases[] = {
      {"a", "a/b"},           // a child of "a" is being written
      {"a/b/c", "a/b"},       // a parent of "a/b/c" is
      {"a/b/c/d", "a/b"},
      {"a/b", std::nullopt},  // the key itself is not a relative
      {"a/bc", std::nullopt},
      {"a/c", std::nullopt},
      {"b", std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CHECK(locks.busy_relative(c.key) == c.busy);
  }
  release = true;
  CHECK(io.run(can_take(locks, "a/b")));  // the holder is done
  CHECK_FALSE(locks.busy_relative("a"));
}
