// Self-healing passes (see auto_repair.h).
#include "auto_repair.h"

#include "http/gate_wait.h"
#include "jobs/blob_copy.h"
#include "jobs/rebalance_job.h"
#include "log.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace mkv {

namespace {

// How many keys one pass moves at once, and how long after a key's record changed its old
// copies are deleted (a redirect handed out just before still finds its bytes).
constexpr std::size_t repair_concurrency = 4;
constexpr std::chrono::seconds repair_grace{10};

// Returns how many keys are marked for repair (read a page at a time).
Result<std::uint64_t> count_marks(IndexBackend& index) {
  std::uint64_t count = 0;
  std::string start;
  for (;;) {
    auto keys = index.repairs(start, job_page_size);
    if (!keys) return keys.error();
    count += keys->size();
    if (keys->size() < job_page_size) break;
    start = keys->back() + std::string(1, '\0');
  }
  return count;
}

// Runs one pass over the marks; returns whether it walked all of them.
net::awaitable<bool> repair_pass(App& app, JobGauges& gauges) {
  const auto topology = app.topology.load();
  RebalanceJob job(app.index, app.writer, app.locks, app.volumes, *topology,
                   {repair_concurrency, repair_grace, 0, RebalanceScope::marked_keys});
  gauges.running = true;
  gauges.runs.fetch_add(1, std::memory_order_relaxed);
  bool complete = true;
  for (;;) {
    if (app.gate.closed() || app.topology.load() != topology) {
      job.request_stop();
      complete = false;
    }
    auto more = co_await job.step();
    for (const auto& note : job.take_notes()) log_line(note);
    const auto& p = job.progress();
    gauges.keys = p.keys_scanned;
    gauges.bytes = p.bytes;
    gauges.fixed = p.keys_moved;
    gauges.failures = p.keys_failed + p.delete_failures;
    if (!more) {
      log_line("repair: " + message(more.error()) + "; the next pass tries again");
      complete = false;
      break;
    }
    if (!*more) break;
  }
  gauges.running = false;
  const auto& p = job.progress();
  if (p.keys_moved > 0 || p.keys_failed > 0) {
    log_line("repair: " + std::to_string(p.keys_moved) + " keys put back on their placement, " +
             std::to_string(p.keys_failed) + " failed, " +
             std::to_string(p.keys_scanned - job.marks_cleared()) + " still marked");
  }
  co_return complete;
}

}  // namespace

net::awaitable<void> repair_marked_keys(App& app) {
  if (!app.gate.enter()) co_return;  // the stop waits for a pass in progress
  JobGauges& gauges = app.metrics.job("repair");
  net::steady_timer wait(co_await net::this_coro::executor);
  const auto interval = std::max<std::chrono::milliseconds>(app.settings.repair_interval,
                                                            std::chrono::milliseconds(10));
  while (!app.gate.closed()) {
    if (app.settings.auto_repair) co_await repair_pass(app, gauges);
    // The backlog: every mark left, counted on the hashing pool (not an IO thread). Marks are
    // few unless a volume has been down for long.
    auto marked = co_await net::co_spawn(
        app.hashers,
        [&]() -> net::awaitable<Result<std::uint64_t>> {
          co_return count_marks(app.index);
        },
        net::use_awaitable);
    if (marked) app.metrics.repair_backlog().store(*marked, std::memory_order_relaxed);
    co_await wait_unless_closed(app.gate, wait, interval);
  }
  app.gate.leave();
}

}  // namespace mkv
