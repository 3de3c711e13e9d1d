// A rebalance as a steppable job (see rebalance_job.h; the decisions and the journal's rules
// are mkv/rebalance_plan.h and mkv/rebalance_journal.h).
#include "rebalance_job.h"

#include "index/reads.h"
#include "jobs/blob_copy.h"
#include "run_all.h"

#include "mkv/checksum.h"
#include "mkv/rebalance_journal.h"
#include "mkv/volume.h"
#include "mkv/volume_answer.h"

#include <algorithm>
#include <set>
#include <utility>

namespace mkv {

namespace {

// Moves the dry run lists one by one.
constexpr std::size_t dry_run_moves_shown = 10;

// Returns the index's current records of the journalled keys (keys no longer indexed left out).
Result<std::vector<Entry>> current_records(IndexBackend& index,
                                           const std::vector<JournalEntry>& journal) {
  std::vector<Entry> current;
  current.reserve(journal.size());
  for (const auto& e : journal) {
    auto record = index.get(e.key);
    if (!record) return record.error();
    if (*record) current.push_back({e.key, std::move(**record)});
  }
  return current;
}

// The entries of the page after the key `after` (from the first key when it is nullopt), and
// whether the index ends with it.
struct ScannedPage {
  std::vector<Entry> entries;
  bool last = false;
};

// Returns how many entries the page after `after` reads (from `after` itself, when given).
std::size_t page_entries_wanted(const std::optional<std::string>& after) {
  return after ? job_page_size + 1 : job_page_size;
}

// Returns the page after `after` of the entries read for it.
ScannedPage page_after(std::vector<Entry> entries, const std::optional<std::string>& after) {
  ScannedPage page{std::move(entries), false};
  page.last = page.entries.size() < page_entries_wanted(after);
  if (after && !page.entries.empty() && page.entries.front().key == *after) {
    page.entries.erase(page.entries.begin());
  }
  return page;
}

// Reads the page after `after` in place (the dry run, which runs off the IO threads).
Result<ScannedPage> scan_page(IndexBackend& index, const std::optional<std::string>& after) {
  auto entries = index.scan(after ? *after : std::string(), page_entries_wanted(after));
  if (!entries) return entries.error();
  return page_after(std::move(*entries), after);
}

// Reads the page after `after` from a coroutine (the job).
net::awaitable<Result<ScannedPage>> read_page(IndexBackend& index,
                                              const std::optional<std::string>& after) {
  const std::string start = after ? *after : std::string();
  auto entries = co_await read_entries(index, start, page_entries_wanted(after));
  if (!entries) co_return entries.error();
  co_return page_after(std::move(*entries), after);
}

// Returns the keys marked for repair after the key `after` (from the first when it is
// nullopt) with their records (nullopt: deleted since it was marked), and whether the marks
// end with them.
struct MarkedPage {
  std::vector<std::pair<std::string, std::optional<Record>>> keys;
  bool last = false;
};
net::awaitable<Result<MarkedPage>> marked_page(IndexBackend& index,
                                               const std::optional<std::string>& after) {
  // The first key after `after` in byte order is after + '\0'.
  auto keys = index.repairs(after ? *after + std::string(1, '\0') : std::string(),
                            job_page_size);
  if (!keys) co_return keys.error();
  MarkedPage page;
  page.last = keys->size() < job_page_size;
  for (auto& key : *keys) {
    auto record = co_await read_record(index, key);
    if (!record) co_return record.error();
    page.keys.emplace_back(std::move(key), std::move(*record));
  }
  co_return page;
}

}  // namespace

RebalanceJob::RebalanceJob(IndexBackend& index, IndexWriter& writer, KeyLocks& locks,
                           VolumeClient& volumes, Topology target, RebalanceSettings settings)
    : index_(index),
      writer_(writer),
      locks_(locks),
      volumes_(volumes),
      target_(std::move(target)),
      concurrency_(std::max<std::size_t>(settings.concurrency, 1)),
      grace_(settings.grace),
      scope_(settings.scope),
      throttle_(settings.rate) {}

std::string_view RebalanceJob::journal_name() const {
  return scope_ == RebalanceScope::all_keys ? rebalance_journal : repair_journal;
}

// Clears the repair mark of a key that needs no move, if its record is still the one read
// (nullopt: deleted), as a write since may have marked it again.
net::awaitable<void> RebalanceJob::clear_mark(const std::string& key,
                                              const std::optional<Record>& record) {
  Write clear{key, record, Expected::current(record)};
  clear.repair = RepairMark::clear;
  auto applied = co_await writer_.apply(clear);
  if (applied && *applied == Applied::written) marks_cleared_ += 1;
}

// Returns whether every volume m copies to is up (a repair waits for the others).
bool RebalanceJob::targets_up(const Move& m) {
  const auto states = volumes_.states(m.copy_to);
  return std::all_of(states.begin(), states.end(),
                     [](VolumeState s) { return s == VolumeState::up; });
}

std::vector<std::string> RebalanceJob::take_notes() { return std::exchange(notes_, {}); }

net::awaitable<Result<bool>> RebalanceJob::step() {
  if (!journal_checked_) {
    journal_checked_ = true;
    auto left = index_.read_journal(journal_name());
    if (!left) co_return left.error();
    if (*left) {
      auto journal = parse_journal(**left);
      if (!journal) co_return journal.error();
      notes_.push_back(std::string(scope_ == RebalanceScope::all_keys ? "rebalance" : "repair") +
                       ": finishing the interrupted run recorded in the journal (" +
                       std::to_string(journal->size()) + " keys)");
      // Its redirects are old: due at once.
      pending_.push_back({std::move(*journal), std::chrono::steady_clock::now() - grace_});
      if (auto finished = co_await delete_pending(true); !finished) co_return finished.error();
      if (auto removed = index_.remove_journal(journal_name()); !removed) {
        co_return removed.error();
      }
      co_return true;
    }
  }
  if (!done_ && !stopping_ && scope_ == RebalanceScope::marked_keys) {
    auto page = co_await marked_page(index_, after_);
    if (!page) co_return page.error();
    std::vector<Entry> entries;
    for (auto& [key, record] : page->keys) {
      after_ = key;
      counts_.keys_scanned += 1;
      if (!record) {  // deleted since it was marked
        co_await clear_mark(key, std::nullopt);
        continue;
      }
      entries.push_back(Entry{std::move(key), std::move(*record)});
    }
    auto moves = plan_rebalance(entries, target_.urls, target_.replicas);
    if (!moves) co_return moves.error();
    std::vector<Move> ready;
    std::size_t next_move = 0;
    for (const auto& entry : entries) {
      if (next_move < moves->size() && (*moves)[next_move].key == entry.key) {
        Move& m = (*moves)[next_move++];
        if (targets_up(m)) ready.push_back(std::move(m));
      } else {
        co_await clear_mark(entry.key, entry.record);  // already on its placement
      }
    }
    counts_.keys_planned += ready.size();
    if (auto done = co_await execute_page(std::move(ready)); !done) co_return done.error();
    done_ = page->last;
    co_return true;
  }
  if (!done_ && !stopping_) {
    auto page = co_await read_page(index_, after_);
    if (!page) co_return page.error();
    if (!page->entries.empty()) {
      after_ = page->entries.back().key;
      auto moves = plan_rebalance(page->entries, target_.urls, target_.replicas);
      if (!moves) co_return moves.error();
      counts_.keys_scanned += page->entries.size();
      counts_.keys_planned += moves->size();
      if (auto done = co_await execute_page(std::move(*moves)); !done) co_return done.error();
    }
    done_ = page->last || page->entries.empty();
    co_return true;
  }
  // The end (or a stop): the last page's old copies, then the journal; a run that placed every
  // key records the topology it placed them by.
  if (auto finished = co_await delete_pending(true); !finished) co_return finished.error();
  if (journal_written_) {
    if (auto removed = index_.remove_journal(journal_name()); !removed) {
      co_return removed.error();
    }
    journal_written_ = false;
  }
  if (scope_ == RebalanceScope::all_keys && !stopping_ && counts_.keys_failed == 0 &&
      counts_.delete_failures == 0) {
    if (auto kept = index_.write_journal(placement_record, placement_text(target_)); !kept) {
      co_return kept.error();
    }
  }
  co_return false;
}

// Copies m's blob to the volume at target_url from the first of its sources that works.
net::awaitable<Result<void>> RebalanceJob::copy_move(const Move& m, const std::string& target_url) {
  auto target = volumes_.pool(target_url);
  if (!target) co_return target.error();
  std::string why = "no volume to copy from";
  for (const auto& source_url : m.sources) {
    auto source = volumes_.pool(source_url);
    if (!source) {
      why = source.error().detail;
      continue;
    }
    auto copied = co_await copy_blob(**source, volume_target((*source)->volume(), m.key),
                                     **target, volume_target((*target)->volume(), m.key),
                                     m.before.size, m.before.md5, &throttle_);
    if (copied) co_return copied;
    why = copied.error().detail;
  }
  co_return Error::volume_request_failed(why);
}

// Makes every copy m needs; returns whether all of them were made.
net::awaitable<bool> RebalanceJob::make_copies(const Move& m) {
  for (const auto& target : m.copy_to) {
    auto made = co_await copy_move(m, target);
    if (!made) {
      notes_.push_back("rebalance: cannot copy " + m.key + " to " + target + ": " +
                       made.error().detail);
      co_return false;
    }
    counts_.copies += 1;
    counts_.bytes += m.before.size;
  }
  co_return true;
}

// Moves one key under its lock, planned again from the record read there when the key was
// rewritten since the page was planned (a PUT that began before the topology changed may have
// placed it by the old one): makes the copies and commits the new record (only if that record
// is still in place). journalled (the key's journal entry) grows to name every volume the move
// touches, for the cleanup after the grace period.
net::awaitable<void> RebalanceJob::move_key(const Move& planned, JournalEntry& journalled) {
  if (stopping_) co_return;
  Move m = planned;  // left where it is; the journal's cleanup deletes nothing of it
  KeyGuard guard = co_await locks_.acquire(m.key);
  auto current = co_await read_record(index_, m.key);
  if (!current) {
    counts_.keys_failed += 1;
    notes_.push_back("rebalance: cannot read " + m.key + ": " + message(current.error()));
    co_return;
  }
  if (!*current) {
    counts_.keys_changed += 1;  // deleted meanwhile
    co_return;
  }
  if (**current != m.before) {
    counts_.keys_changed += 1;
    auto replanned = plan_move(Entry{m.key, **current}, target_.urls, target_.replicas);
    if (!replanned) {  // its writer placed it
      if (scope_ == RebalanceScope::marked_keys) co_await clear_mark(m.key, *current);
      co_return;
    }
    m = std::move(*replanned);
    for (const auto* side : {&m.before.volumes, &m.after.volumes}) {
      for (const auto& v : *side) {
        auto& list = side == &m.before.volumes ? journalled.before : journalled.after;
        if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
      }
    }
  }
  if (!co_await make_copies(m)) {
    counts_.keys_failed += 1;
    co_return;
  }
  // On its placement now: a mark for repair is done with.
  Write write{m.key, m.after, Expected::record(m.before)};
  write.repair = RepairMark::clear;
  auto applied = co_await writer_.apply(write);
  if (!applied) {
    counts_.keys_failed += 1;
    notes_.push_back("rebalance: cannot record the move of " + m.key + ": " +
                     message(applied.error()));
  } else if (*applied == Applied::written) {
    counts_.keys_moved += 1;
    if (scope_ == RebalanceScope::marked_keys) marks_cleared_ += 1;
  } else {
    counts_.keys_failed += 1;  // unreachable under the key's lock, unless another process
                               // writes the index
  }
}

// Deletes key from the volume at url; returns whether it is gone (also when it was not there),
// or the delete failed with an answer, or without one.
net::awaitable<RebalanceJob::Deleted> RebalanceJob::delete_copy(const std::string& key,
                                                                const std::string& url) {
  auto volume = volumes_.pool(url);
  if (!volume) {
    notes_.push_back("rebalance: cannot delete " + key + " from " + url + ": " +
                     volume.error().detail);
    co_return Deleted::failed;
  }
  auto reply = co_await volume_delete(**volume, volume_target((*volume)->volume(), key));
  if (reply && removed(*reply)) {
    if (classify_answer(VolumeVerb::remove, *reply) == Answer::done) counts_.deletes += 1;
    co_return Deleted::gone;
  }
  if (!reply && leaving(url)) co_return Deleted::unreachable;  // noted by the caller
  notes_.push_back("rebalance: cannot delete " + key + " from " + url + ": " +
                   (reply ? "answered " + std::to_string(*reply) : reply.error().detail));
  co_return reply ? Deleted::failed : Deleted::unreachable;
}

// Returns whether url is a volume the target topology does not list (one being removed).
bool RebalanceJob::leaving(const std::string& url) const {
  return std::find(target_.urls.begin(), target_.urls.end(), url) == target_.urls.end();
}

// Under the key's lock, deletes every copy of a journalled key that its record (read there)
// does not name: the old copies of a key moved, the new ones of a move that did not commit.
// A copy on a volume leaving -v that does not answer (a dead one being replaced) is left there
// and counted, not retried: nothing will read that volume again.
net::awaitable<void> RebalanceJob::clean_key(const JournalEntry& entry, std::uint64_t& failed) {
  KeyGuard guard = co_await locks_.acquire(entry.key);
  auto record = co_await read_record(index_, entry.key);
  if (!record) {
    failed += 1;
    notes_.push_back("rebalance: cannot read " + entry.key + ": " + message(record.error()));
    co_return;
  }
  std::vector<Entry> current;
  if (*record) current.push_back({entry.key, std::move(**record)});
  for (const auto& cleanup : plan_recovery(std::span(&entry, 1), current)) {
    for (const auto& url : cleanup.remove_from) {
      const Deleted outcome = co_await delete_copy(entry.key, url);
      if (outcome == Deleted::gone) continue;
      if (outcome == Deleted::unreachable && leaving(url)) {
        counts_.copies_abandoned += 1;
        if (abandoned_on_.insert(url).second) {
          notes_.push_back("rebalance: " + url + " is leaving and does not answer: its old "
                           "copies are left there (wipe it before using it again)");
        }
        continue;
      }
      failed += 1;
    }
  }
}

// Deletes the old copies of the pages moved whose grace period has passed (with all, of every
// page moved, waiting for each to be due). Fails, keeping the journal for the next run, if a
// delete failed.
net::awaitable<Result<void>> RebalanceJob::delete_pending(bool all) {
  net::steady_timer wait(co_await net::this_coro::executor);
  while (!pending_.empty()) {
    const auto due = pending_.front().since + grace_;
    if (!all && due > std::chrono::steady_clock::now()) break;
    wait.expires_at(due);
    co_await wait.async_wait(as_values);
    const std::vector<JournalEntry> entries = std::move(pending_.front().entries);
    pending_.pop_front();
    std::uint64_t failed = 0;
    co_await for_each_bounded(entries.size(), concurrency_,
                              [&](std::size_t i) { return clean_key(entries[i], failed); });
    if (failed > 0) {
      counts_.delete_failures += failed;
      co_return Error::volume_request_failed(std::to_string(failed) +
                                             " deletes failed; the journal keeps them for the "
                                             "next run");
    }
  }
  co_return Result<void>{};
}

// Journals a page's moves together with the pages whose old copies are still to be deleted,
// moves each key under its lock, then deletes the old copies whose grace period has passed.
net::awaitable<Result<void>> RebalanceJob::execute_page(std::vector<Move> moves) {
  std::vector<JournalEntry> fresh = journal_entries(moves);
  if (!fresh.empty()) {
    std::vector<JournalEntry> journal;
    for (const auto& page : pending_) {
      journal.insert(journal.end(), page.entries.begin(), page.entries.end());
    }
    journal.insert(journal.end(), fresh.begin(), fresh.end());
    if (auto written = index_.write_journal(journal_name(), encode_journal(journal));
        !written) {
      co_return written.error();
    }
    journal_written_ = true;
  }
  co_await for_each_bounded(moves.size(), concurrency_,
                            [&](std::size_t i) { return move_key(moves[i], fresh[i]); });
  if (!fresh.empty()) pending_.push_back({std::move(fresh), std::chrono::steady_clock::now()});
  co_return co_await delete_pending(false);
}

Result<std::string> rebalance_dry_run(IndexBackend& index, const Topology& target) {
  std::string report;
  auto left = index.read_journal(rebalance_journal);
  if (!left) return left.error();
  if (*left) {
    auto journal = parse_journal(**left);
    if (!journal) return journal.error();
    auto current = current_records(index, *journal);
    if (!current) return current.error();
    std::size_t deletes = 0;
    for (const auto& c : plan_recovery(*journal, *current)) deletes += c.remove_from.size();
    report += "an interrupted rebalance left a journal (" + std::to_string(journal->size()) +
              " keys): the next run first deletes " + std::to_string(deletes) +
              " copies no record lists\n";
  }
  PlanSummary summary;
  std::vector<Move> shown;
  std::optional<std::string> after;
  for (;;) {
    auto page = scan_page(index, after);
    if (!page) return page.error();
    if (page->entries.empty()) break;
    after = page->entries.back().key;
    auto moves = plan_rebalance(page->entries, target.urls, target.replicas);
    if (!moves) return moves.error();
    summary = tally_plan(std::move(summary), page->entries.size(), *moves);
    for (auto& m : *moves) {
      if (shown.size() == dry_run_moves_shown) break;
      shown.push_back(std::move(m));
    }
    if (page->last) break;
  }
  return report + format_dry_run(summary, shown, target.urls.size(), target.replicas);
}

}  // namespace mkv
