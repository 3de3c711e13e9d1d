// The keep-alive connections to one volume (see pool.h).
#include "pool.h"

#include "pipeline.h"

#include <algorithm>
#include <iterator>

namespace mkv {

namespace {

// Returns the io_context (or other execution context) an executor runs its work on.
const net::execution_context* context_of(const net::any_io_executor& executor) {
  return &net::query(executor, net::execution::context);
}

}  // namespace

VolumePool::VolumePool(Volume volume, VolumeOptions options)
    : volume_(std::move(volume)), options_(options) {}

VolumePool::~VolumePool() = default;

net::awaitable<Result<Connection>> VolumePool::acquire() {
  const net::any_io_executor executor = co_await net::this_coro::executor;
  const auto* context = context_of(executor);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    for (auto& [owner, idle] : idle_) {
      if (owner != context) continue;
      while (!idle.empty()) {
        Idle youngest = std::move(idle.back());
        idle.pop_back();
        --idle_count_;
        if (now - youngest.since < options_.idle_limit) {
          co_return Connection{std::move(youngest.stream), true};
        }
      }
    }
  }
  net::ip::tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(volume_.host, volume_.port, as_values);
  if (rec) co_return transport_error(volume_, "resolve", rec);
  auto stream = std::make_unique<beast::tcp_stream>(executor);
  stream->expires_after(options_.connect_timeout);
  auto [cec, endpoint] = co_await stream->async_connect(endpoints, as_values);
  if (cec) co_return transport_error(volume_, "connect", cec);
  stream->socket().set_option(net::ip::tcp::no_delay(true));
  co_return Connection{std::move(stream), false};
}

void VolumePool::release(Connection connection) {
  const auto* context = context_of(connection.stream->get_executor());
  std::lock_guard lock(mutex_);
  if (idle_count_ >= options_.max_idle) return;
  auto owned = std::find_if(idle_.begin(), idle_.end(),
                            [&](const auto& entry) { return entry.first == context; });
  if (owned == idle_.end()) {
    idle_.emplace_back(context, std::vector<Idle>());
    owned = std::prev(idle_.end());
  }
  owned->second.push_back({std::move(connection.stream), std::chrono::steady_clock::now()});
  ++idle_count_;
}

net::awaitable<VolumeReply> VolumePool::pipelined(WholeRequest& request) {
  const net::any_io_executor executor = co_await net::this_coro::executor;
  const auto* context = context_of(executor);
  Pipeline* pipeline = nullptr;
  {
    std::lock_guard lock(mutex_);
    for (auto& [owner, p] : pipelines_) {
      if (owner == context) pipeline = p.get();
    }
    if (!pipeline) {
      pipelines_.emplace_back(context, std::make_unique<Pipeline>(*this, executor));
      pipeline = pipelines_.back().second.get();
    }
  }
  co_return co_await pipeline->exchange(request);
}

}  // namespace mkv
