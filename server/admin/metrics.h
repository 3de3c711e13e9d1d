// The live counters of a running `mkv serve`, and their /metrics text. The request path only
// adds to relaxed atomics (no lock, no allocation); the slots are decided by mkv/metrics.h.
#pragma once

#include "mkv/metrics.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mkv {

class VolumeClient;
struct Topology;

// What an online job has done so far, for /metrics: written by the job's driver between steps.
struct JobGauges {
  std::atomic<bool> running{false};
  std::atomic<std::uint64_t> runs{0};      // jobs started since the server started
  std::atomic<std::uint64_t> keys{0};      // keys scanned by the job in progress (or the last)
  std::atomic<std::uint64_t> bytes{0};     // bytes read or copied
  std::atomic<std::uint64_t> fixed{0};     // copies repaired, keys moved, files deleted
  std::atomic<std::uint64_t> failures{0};  // what could not be done
};

class Metrics {
 public:
  // Counts one answered request: its method, status, time from its header to its reply, and
  // the body bytes it brought.
  void record(std::string_view method, unsigned status, std::chrono::microseconds elapsed,
              std::uint64_t body_bytes) {
    const std::size_t m = method_slot(method);
    requests_[m][status_slot(status)].fetch_add(1, std::memory_order_relaxed);
    const auto micros = static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed.count(), 0));
    latency_[m][latency_bucket(micros)].fetch_add(1, std::memory_order_relaxed);
    latency_sum_us_[m].fetch_add(micros, std::memory_order_relaxed);
    if (body_bytes > 0) received_.fetch_add(body_bytes, std::memory_order_relaxed);
  }

  // The gauges of the online job (one at a time) named job_name.
  JobGauges& job(std::string_view name);
  // The keys marked for repair, as last counted.
  std::atomic<std::uint64_t>& repair_backlog() { return repair_backlog_; }

  // Returns the whole exposition: the request counters and histograms, the volumes' requests
  // and health (of every volume volumes has a pool for), the keys in the index (index_keys;
  // left out when it could not be read), and the jobs'.
  std::string render(VolumeClient& volumes, const Topology& topology,
                     std::optional<std::uint64_t> index_keys) const;

 private:
  using Counter = std::atomic<std::uint64_t>;
  std::array<std::array<Counter, metric_statuses.size()>, metric_methods.size()> requests_{};
  std::array<std::array<Counter, latency_buckets>, metric_methods.size()> latency_{};
  std::array<Counter, metric_methods.size()> latency_sum_us_{};
  Counter received_{0};
  Counter repair_backlog_{0};
  // One per job kind, in this order ("repair": the self-healing passes).
  static constexpr std::array<std::string_view, 4> job_names = {"verify", "rebalance", "gc",
                                                                "repair"};
  std::array<JobGauges, job_names.size()> jobs_{};
};

}  // namespace mkv
