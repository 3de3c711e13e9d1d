// The keep-alive connections to one volume (see pool.h).
#include "pool.h"

#include "pipeline.h"

#include "log.h"

#include <algorithm>
#include <iterator>

namespace mkv {

namespace {

// Returns the io_context (or other execution context) an executor runs its work on.
const net::execution_context* context_of(const net::any_io_executor& executor) {
  return &net::query(executor, net::execution::context);
}

}  // namespace

VolumePool::VolumePool(Volume volume, VolumeOptions options,
                       std::atomic<std::size_t>* unhealthy)
    : volume_(std::move(volume)), options_(options), unhealthy_(unhealthy) {}

VolumePool::~VolumePool() = default;

net::awaitable<Result<Connection>> VolumePool::acquire(
    std::optional<std::chrono::milliseconds> connect_timeout) {
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
  if (rec) {
    Error error = transport_error(volume_, "resolve", rec);
    observe(Seen::failed, error.detail);
    co_return error;
  }
  auto stream = std::make_unique<beast::tcp_stream>(executor);
  stream->expires_after(connect_timeout.value_or(options_.connect_timeout));
  auto [cec, endpoint] = co_await stream->async_connect(endpoints, as_values);
  if (cec) {
    Error error = transport_error(volume_, "connect", cec);
    observe(Seen::failed, error.detail);
    co_return error;
  }
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

HealthStep VolumePool::observe(Seen seen, std::string_view error) {
  HealthStep step;
  if (seen == Seen::answered) answered_.fetch_add(1, std::memory_order_relaxed);
  if (seen == Seen::failed) failed_.fetch_add(1, std::memory_order_relaxed);
  // The request path's case, without a lock: an answer from a volume that is up and has no
  // failure run changes nothing.
  if (seen == Seen::answered && clean_.load(std::memory_order_relaxed)) return step;
  {
    std::lock_guard lock(health_mutex_);
    step = mkv::observe(health_, seen);
    health_ = step.health;
    clean_.store(health_.state == VolumeState::up && health_.failures == 0,
                 std::memory_order_relaxed);
    if (!error.empty()) last_error_ = std::string(error);
    if (step.check_capabilities) check_wanted_ = true;
    if (!step.changed) return step;
    since_ = std::chrono::system_clock::now();
    const bool was_up = state_.load(std::memory_order_relaxed) == VolumeState::up;
    state_.store(health_.state, std::memory_order_relaxed);
    if (unhealthy_ && was_up) unhealthy_->fetch_add(1, std::memory_order_relaxed);
    if (unhealthy_ && health_.state == VolumeState::up) {
      unhealthy_->fetch_sub(1, std::memory_order_relaxed);
    }
  }
  log_line("volume " + volume_.url + " is " + std::string(state_name(step.health.state)) +
           (step.health.state == VolumeState::up || error.empty() ? std::string()
                                                                   : ": " + std::string(error)));
  return step;
}

void VolumePool::observe_status(unsigned status, std::string_view what) {
  if (status < 500) {
    observe(Seen::answered);
  } else if (status == 507) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    observe(Seen::incapable, std::string(what) + " answered 507 (no space left)");
  } else {
    observe(Seen::failed, std::string(what) + " answered " + std::to_string(status));
  }
}

bool VolumePool::take_check() {
  std::lock_guard lock(health_mutex_);
  return std::exchange(check_wanted_, false);
}

bool VolumePool::begin_check() {
  std::lock_guard lock(health_mutex_);
  return !std::exchange(checking_, true);
}

void VolumePool::end_check() {
  std::lock_guard lock(health_mutex_);
  checking_ = false;
}

VolumeReport VolumePool::report() const {
  std::lock_guard lock(health_mutex_);
  return VolumeReport{volume_.url, health_.state, format_utc(since_), last_error_};
}

}  // namespace mkv
