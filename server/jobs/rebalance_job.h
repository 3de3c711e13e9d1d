// A rebalance as a steppable job: moves every key's copies onto its placement among a
// topology's volumes, a page of the index per step, journalled so that a killed run is finished
// by the next one (mkv/rebalance_journal.h). It holds no terminal output: whoever drives it
// (the CLI, or a server) reads progress() and take_notes() and shows them as it likes.
#pragma once

#include "index/backend.h"
#include "volume/client.h"
#include "volume/transport.h"

#include "mkv/rebalance_journal.h"
#include "mkv/rebalance_plan.h"
#include "mkv/rebalance_report.h"
#include "mkv/topology.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mkv {

// The name of the rebalance's journal in the index (IndexBackend::write_journal).
inline constexpr std::string_view rebalance_journal = "rebalance";

class RebalanceJob {
 public:
  // Rebalances index onto target with at most concurrency moves (or deletes) in flight. index
  // and volumes must outlive the job.
  RebalanceJob(IndexBackend& index, VolumeClient& volumes, Topology target,
               std::size_t concurrency);

  // Does the next piece of work: first the journal an interrupted run left, then one page of
  // the index (plan, journal, copy, write the index, delete). Returns whether work is left. An
  // error stops the job with the page's journal kept, so the next run finishes it.
  net::awaitable<Result<bool>> step();

  // Returns the counts so far (seconds is left to the driver, which keeps the time).
  const RebalanceProgress& progress() const { return counts_; }

  // Returns the lines worth showing that happened since the last call (a copy that could not be
  // made, a journal being finished), without trailing newlines.
  std::vector<std::string> take_notes();

 private:
  struct Page {
    std::vector<Entry> entries;
    bool last = false;
  };

  Result<Page> next_page();
  net::awaitable<Result<void>> execute_page(std::vector<Move> moves);
  net::awaitable<Result<void>> finish_journal(std::vector<JournalEntry> journal);
  net::awaitable<Result<void>> copy_move(const Move& m, const std::string& target_url);
  net::awaitable<void> make_copies(const Move& m, char& copied);
  net::awaitable<void> delete_copy(std::string key, std::string url, char& deleted);

  IndexBackend& index_;
  VolumeClient& volumes_;
  Topology target_;
  std::size_t concurrency_;
  RebalanceProgress counts_;
  std::vector<std::string> notes_;
  bool journal_checked_ = false;      // the first step has looked for a journal left behind
  std::optional<std::string> after_;  // the last key of the page done last
  bool done_ = false;
};

// Plans the rebalance of index onto target page by page and returns the --dry-run report (what
// an unfinished journal would do first, the totals, the traffic per volume, the first moves).
// Changes nothing anywhere.
Result<std::string> rebalance_dry_run(IndexBackend& index, const Topology& target);

}  // namespace mkv
