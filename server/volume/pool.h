// The keep-alive connections to one volume, kept apart per io_context, and the pipeline each
// io_context sends small requests to the volume through.
#pragma once

#include "transport.h"

#include "mkv/health.h"
#include "mkv/volume.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

struct VolumeOptions {
  std::chrono::milliseconds connect_timeout{3000};  // TCP connect
  std::chrono::milliseconds io_timeout{30000};      // any one read or write making no progress
  std::chrono::seconds idle_limit{20};  // idle connections older than this are not reused
                                        // (below nginx's keepalive_timeout of 75 s)
  std::size_t max_idle = 256;           // idle connections kept per volume
  std::size_t pipelined_body_limit = 64 * 1024;  // whole PUT bodies up to this size are
                                                 // pipelined (see Pipeline)
  LinkSigning signing;  // --redirect-secret, --redirect-ttl
};

// An open connection to a volume, and whether it served a request before. The stream is held
// by pointer because moving a beast::tcp_stream allocates (pending operations share its state).
struct Connection {
  std::unique_ptr<beast::tcp_stream> stream;
  bool reused = false;
};

class Pipeline;
struct WholeRequest;

// The keep-alive connections to one volume, and what mkv knows of the volume's health. A
// connection belongs to the io_context of the coroutine that opened it and is only handed to
// coroutines of that io_context, so its IO never crosses threads. Thread-safe: mutexes guard
// only the idle lists, the list of pipelines and the health record, never an IO.
class VolumePool {
 public:
  // unhealthy, if given, counts the pools (of one client) whose volume is not up.
  VolumePool(Volume volume, VolumeOptions options,
             std::atomic<std::size_t>* unhealthy = nullptr);
  ~VolumePool();
  VolumePool(const VolumePool&) = delete;
  VolumePool& operator=(const VolumePool&) = delete;

  const Volume& volume() const { return volume_; }
  const VolumeOptions& options() const { return options_; }

  // Returns an idle connection of the calling coroutine's io_context young enough to reuse, or
  // a newly connected one on the calling coroutine's executor, giving up after connect_timeout
  // (the pool's own when not given).
  net::awaitable<Result<Connection>> acquire(
      std::optional<std::chrono::milliseconds> connect_timeout = std::nullopt);

  // Takes back a connection whose last exchange ended cleanly and may be kept alive.
  void release(Connection connection);

  // Sends a whole request through the calling coroutine's io_context's Pipeline to this
  // volume; completes with the volume's status. Idempotent requests only.
  net::awaitable<VolumeReply> pipelined(WholeRequest& request);

  // ---- Health (mkv/health.h decides; this keeps the record)
  // Returns the volume's state now (lock-free).
  VolumeState state() const { return state_.load(std::memory_order_relaxed); }
  // Records what mkv saw of the volume, with the error text of a failure; logs a change of
  // state. Returns the step, whose check_capabilities asks for a capability check.
  HealthStep observe(Seen seen, std::string_view error = {});
  // Records the answer status to a request: 5xx is a failure (507, no space, makes the volume
  // unwritable), anything else an answer.
  void observe_status(unsigned status, std::string_view what);
  // Returns whether a capability check was asked for and not yet taken, and takes it.
  bool take_check();
  // Marks a capability check as running; returns false if one already is. end_check() ends it.
  bool begin_check();
  void end_check();
  // Returns the volume's line of the health report.
  VolumeReport report() const;
  // Returns how many requests (probes included) the volume answered below 500, and how many
  // failed (no answer, or 5xx), so far.
  std::uint64_t answered() const { return answered_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  struct Idle {
    std::unique_ptr<beast::tcp_stream> stream;
    std::chrono::steady_clock::time_point since;
  };

  Volume volume_;
  VolumeOptions options_;
  std::mutex mutex_;
  // The idle connections of each io_context, oldest first.
  std::vector<std::pair<const net::execution_context*, std::vector<Idle>>> idle_;
  std::size_t idle_count_ = 0;
  // The pipeline of each io_context.
  std::vector<std::pair<const net::execution_context*, std::unique_ptr<Pipeline>>> pipelines_;

  std::atomic<std::size_t>* unhealthy_;
  std::atomic<std::uint64_t> answered_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<VolumeState> state_{VolumeState::up};
  // Up with no failure run: an answer changes nothing, so observe() returns at once.
  std::atomic<bool> clean_{true};
  mutable std::mutex health_mutex_;
  Health health_;
  std::chrono::system_clock::time_point since_ = std::chrono::system_clock::now();
  std::string last_error_;
  bool check_wanted_ = false;
  bool checking_ = false;
};

}  // namespace mkv
