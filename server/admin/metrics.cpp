// The live counters of a running `mkv serve` (see metrics.h).
#include "metrics.h"

#include "volume/client.h"

#include "mkv/health.h"
#include "mkv/topology.h"

#include <algorithm>

namespace mkv {

JobGauges& Metrics::job(std::string_view name) {
  const auto it = std::find(job_names.begin(), job_names.end(), name);
  return jobs_[static_cast<std::size_t>(it == job_names.end() ? 0 : it - job_names.begin())];
}

std::string Metrics::render(VolumeClient& volumes, const Topology& topology,
                            std::optional<std::uint64_t> index_keys) const {
  PrometheusText out;
  const auto load = [](const Counter& c) { return c.load(std::memory_order_relaxed); };

  out.family("mkv_requests_total", "Requests answered on the public port, by method and status.",
             "counter");
  for (std::size_t m = 0; m < metric_methods.size(); ++m) {
    for (std::size_t s = 0; s < metric_statuses.size(); ++s) {
      const auto n = load(requests_[m][s]);
      if (n == 0) continue;
      const unsigned status = metric_statuses[s];
      out.sample("mkv_requests_total",
                 Labels{{"method", std::string(metric_methods[m])},
                        {"status", status ? std::to_string(status) : std::string("other")}},
                 n);
    }
  }

  out.family("mkv_request_duration_seconds",
             "Time from a request's header to its reply being written, by method.", "histogram");
  for (std::size_t m = 0; m < metric_methods.size(); ++m) {
    std::array<std::uint64_t, latency_buckets> counts{};
    for (std::size_t b = 0; b < latency_buckets; ++b) counts[b] = load(latency_[m][b]);
    out.histogram("mkv_request_duration_seconds", Labels{{"method", std::string(metric_methods[m])}},
                  counts, load(latency_sum_us_[m]));
  }

  out.family("mkv_received_bytes_total", "Request body bytes received (PUT bodies).", "counter");
  out.sample("mkv_received_bytes_total", {}, load(received_));

  // Every volume mkv has talked to: the configured ones and any a record still names.
  out.family("mkv_volume_requests_total",
             "Requests to each volume (probes included) by outcome: answered (status below 500) "
             "or failed (no answer, or 5xx).",
             "counter");
  std::vector<std::pair<std::string, VolumeState>> states;
  volumes.each_pool([&](std::string_view url, VolumePool& pool) {
    out.sample("mkv_volume_requests_total",
               Labels{{"volume", std::string(url)}, {"outcome", "answered"}}, pool.answered());
    out.sample("mkv_volume_requests_total",
               Labels{{"volume", std::string(url)}, {"outcome", "failed"}}, pool.failed());
    states.emplace_back(std::string(url), pool.state());
  });
  out.family("mkv_volume_up",
             "1 for each volume's state now (up, down or unwritable), 0 for the others.",
             "gauge");
  for (const auto& [url, state] : states) {
    for (const auto s : {VolumeState::up, VolumeState::down, VolumeState::unwritable}) {
      out.sample("mkv_volume_up", Labels{{"volume", url}, {"state", std::string(state_name(s))}},
                 state == s ? 1 : 0);
    }
  }
  out.family("mkv_volumes_configured", "Volumes placement uses (-v), and the replicas (-r).",
             "gauge");
  out.sample("mkv_volumes_configured", Labels{{"what", "volumes"}}, topology.urls.size());
  out.sample("mkv_volumes_configured", Labels{{"what", "replicas"}}, topology.replicas);

  const struct {
    const char* name;
    const char* help;
    const char* type;
    std::atomic<std::uint64_t> JobGauges::*field;
  } job_series[] = {
      {"mkv_job_runs_total", "Online jobs started, by kind.", "counter", &JobGauges::runs},
      {"mkv_job_keys", "Keys the running (or last) job has scanned.", "gauge", &JobGauges::keys},
      {"mkv_job_bytes", "Bytes the running (or last) job has read or copied.", "gauge",
       &JobGauges::bytes},
      {"mkv_job_fixed", "Copies the running (or last) job repaired, keys it moved, files it deleted.",
       "gauge", &JobGauges::fixed},
      {"mkv_job_failures", "What the running (or last) job could not do.", "gauge",
       &JobGauges::failures},
  };
  if (index_keys) {
    out.family("mkv_index_keys", "Keys in the index (kept by every index write).", "gauge");
    out.sample("mkv_index_keys", Labels{}, *index_keys);
  }
  out.family("mkv_repair_backlog_keys",
             "Keys marked for repair (written off their placement, or short of copies), as last "
             "counted.",
             "gauge");
  out.sample("mkv_repair_backlog_keys", Labels{}, repair_backlog_.load(std::memory_order_relaxed));
  out.family("mkv_job_running", "1 while an online job of the kind runs.", "gauge");
  for (std::size_t j = 0; j < job_names.size(); ++j) {
    out.sample("mkv_job_running", Labels{{"job", std::string(job_names[j])}},
               jobs_[j].running.load(std::memory_order_relaxed) ? 1 : 0);
  }
  for (const auto& series : job_series) {
    out.family(series.name, series.help, series.type);
    for (std::size_t j = 0; j < job_names.size(); ++j) {
      out.sample(series.name, Labels{{"job", std::string(job_names[j])}},
                 (jobs_[j].*series.field).load(std::memory_order_relaxed));
    }
  }
  return out.take();
}

}  // namespace mkv
