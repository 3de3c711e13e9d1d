// Watching the volumes while `serve` runs (see watch.h).
#include "watch.h"

#include "run_all.h"
#include "volume/health_check.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace mkv {

namespace {

// Probes the volume at url once, then runs a capability check if its health asks for one.
net::awaitable<void> probe_one(VolumeClient& volumes, std::string url,
                               std::chrono::milliseconds timeout) {
  auto volume = volumes.pool(url);
  if (!volume) co_return;
  co_await probe(**volume, timeout);
  if ((*volume)->take_check()) co_await check_capabilities(**volume);
}

// Checks the capabilities of the volume at url, then counts itself done.
net::awaitable<void> check_one(VolumeClient& volumes, std::string url,
                               std::shared_ptr<std::size_t> done) {
  auto volume = volumes.pool(url);
  if (volume) co_await check_capabilities(**volume);
  *done += 1;
}

}  // namespace

net::awaitable<void> check_volumes(VolumeClient& volumes, const CurrentTopology& topology,
                                   std::chrono::milliseconds wait) {
  const auto executor = co_await net::this_coro::executor;
  const auto current = topology.load();
  auto done = std::make_shared<std::size_t>(0);
  for (const auto& url : current->urls) {
    net::co_spawn(executor, check_one(volumes, url, done), net::detached);
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  net::steady_timer poll(executor);
  while (*done < current->urls.size() && std::chrono::steady_clock::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(5));
    co_await poll.async_wait(as_values);
  }
}

net::awaitable<void> probe_volumes(VolumeClient& volumes, const CurrentTopology& topology,
                                   std::chrono::milliseconds interval) {
  if (interval.count() <= 0) co_return;
  const auto timeout = std::max<std::chrono::milliseconds>(interval, std::chrono::seconds(1));
  net::steady_timer tick(co_await net::this_coro::executor);
  for (auto next = std::chrono::steady_clock::now() + interval;; next += interval) {
    tick.expires_at(next);
    co_await tick.async_wait(as_values);
    next = std::max(next, std::chrono::steady_clock::now() - interval);  // no burst after a stall
    const auto current = topology.load();
    co_await run_all(current->urls.size(), [&](std::size_t i) {
      return probe_one(volumes, current->urls[i], timeout);
    });
  }
}

}  // namespace mkv
