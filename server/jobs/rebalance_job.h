// A rebalance as a steppable job: moves every key's copies onto its placement among a
// topology's volumes, a page of the index per step, journalled so that a killed run is finished
// by the next one (mkv/rebalance_journal.h). Each key moves under its write lock: the record is
// read again there, the copies are made and checked, and the new record is committed through
// the index writer, so a PUT or DELETE of the key (inside a running server) is serialized with
// the move. The old copies of a page are deleted a grace period after its records changed
// (under the key's lock, keeping whatever the record then names), so a redirect handed out
// just before still finds its bytes; meanwhile the next page is moved. It holds no terminal
// output: whoever drives it (the CLI, or a server) reads progress() and take_notes().
//
// Scoped to the keys marked for repair (Write::repair) it is the server's self-healing pass:
// it walks the marks instead of the index, moves only keys whose new volumes are all up
// (the others wait for the next pass), clears the mark of each key it puts in place (or finds
// in place, or deleted), keeps its own journal, and records no placement.
#pragma once

#include "index/backend.h"
#include "index/key_locks.h"
#include "index/writer.h"
#include "jobs/throttle.h"
#include "volume/client.h"
#include "volume/transport.h"

#include "mkv/rebalance_journal.h"
#include "mkv/rebalance_plan.h"
#include "mkv/rebalance_report.h"
#include "mkv/topology.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mkv {

// The name of the rebalance's journal in the index (IndexBackend::write_journal).
inline constexpr std::string_view rebalance_journal = "rebalance";
// The name of the record, kept with the index, of the topology (mkv/topology.h placement_text)
// the last rebalance that reached every key placed them by.
inline constexpr std::string_view placement_record = "placement";
// The name of the self-healing pass's journal.
inline constexpr std::string_view repair_journal = "repair";

// The keys a rebalance walks: every key of the index, or the keys marked for repair.
enum class RebalanceScope { all_keys, marked_keys };

// How a rebalance runs.
struct RebalanceSettings {
  std::size_t concurrency = 16;        // moves (or deletes) in flight
  std::chrono::milliseconds grace{0};  // between a record changing and its old copies' delete
  double rate = 0;                     // bytes per second copied; 0: no limit
  RebalanceScope scope = RebalanceScope::all_keys;
};

class RebalanceJob {
 public:
  // Rebalances index onto target as settings say, committing through writer and taking each
  // key's lock from locks. Everything given must outlive the job.
  RebalanceJob(IndexBackend& index, IndexWriter& writer, KeyLocks& locks, VolumeClient& volumes,
               Topology target, RebalanceSettings settings);

  // Does the next piece of work: first the journal an interrupted run left (a step of its own,
  // which removes it), then one page of the index (journal, move each key, delete the previous
  // page's old copies), and last the old copies of the last page. Returns whether work is
  // left. An error stops the job with the journal kept, so the next run finishes it.
  net::awaitable<Result<bool>> step();

  // Asks the job to stop at its next safe point: the keys in hand are moved, the old copies
  // already due are deleted after their grace period, the journal is removed, and step()
  // returns false. The keys not reached stay where they are, readable.
  void request_stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }

  // Returns the counts so far (seconds is left to the driver, which keeps the time).
  const RebalanceProgress& progress() const { return counts_; }
  // Returns how many repair marks the job has cleared (keys put in place, found in place or
  // deleted); with keys_scanned, what is left of the marks it walked.
  std::uint64_t marks_cleared() const { return marks_cleared_; }

  // Returns the lines worth showing that happened since the last call (a copy that could not be
  // made, a journal being finished), without trailing newlines.
  std::vector<std::string> take_notes();

 private:
  std::string_view journal_name() const;
  net::awaitable<void> clear_mark(const std::string& key, const std::optional<Record>& record);
  bool targets_up(const Move& m);
  net::awaitable<Result<void>> execute_page(std::vector<Move> moves);
  net::awaitable<Result<void>> delete_pending(bool all);
  net::awaitable<void> clean_key(const JournalEntry& entry, std::uint64_t& failed);
  net::awaitable<void> move_key(const Move& planned, JournalEntry& journalled);
  net::awaitable<Result<void>> copy_move(const Move& m, const std::string& target_url);
  net::awaitable<bool> make_copies(const Move& m);
  enum class Deleted { gone, failed, unreachable };
  net::awaitable<Deleted> delete_copy(const std::string& key, const std::string& url);
  bool leaving(const std::string& url) const;

  IndexBackend& index_;
  IndexWriter& writer_;
  KeyLocks& locks_;
  VolumeClient& volumes_;
  Topology target_;
  std::size_t concurrency_;
  std::chrono::milliseconds grace_;
  RebalanceScope scope_;
  Throttle throttle_;
  std::uint64_t marks_cleared_ = 0;
  // The journalled keys of the pages moved whose old copies wait for the grace period, oldest
  // first, each with the time its records changed.
  struct PendingPage {
    std::vector<JournalEntry> entries;
    std::chrono::steady_clock::time_point since;
  };
  std::deque<PendingPage> pending_;
  RebalanceProgress counts_;
  std::vector<std::string> notes_;
  std::set<std::string> abandoned_on_;  // leaving volumes whose old copies were left (noted)
  bool journal_checked_ = false;      // the first step has looked for a journal left behind
  bool journal_written_ = false;      // a journal is in the index (this run's or one left)
  std::optional<std::string> after_;  // the last key of the page done last
  bool done_ = false;
  bool stopping_ = false;
};

// Plans the rebalance of index onto target page by page and returns the --dry-run report (what
// an unfinished journal would do first, the totals, the traffic per volume, the first moves).
// Changes nothing anywhere.
Result<std::string> rebalance_dry_run(IndexBackend& index, const Topology& target);

}  // namespace mkv
