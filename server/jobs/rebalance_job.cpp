// A rebalance as a steppable job (see rebalance_job.h; the decisions and the journal's rules
// are mkv/rebalance_plan.h and mkv/rebalance_journal.h).
#include "rebalance_job.h"

#include "jobs/blob_copy.h"
#include "run_all.h"

#include "mkv/checksum.h"
#include "mkv/rebalance_journal.h"
#include "mkv/volume.h"
#include "mkv/volume_answer.h"

#include <algorithm>
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

// Returns the entries of the page after the key `after` (from the first key when it is
// nullopt), and whether the index ends with it.
struct ScannedPage {
  std::vector<Entry> entries;
  bool last = false;
};
Result<ScannedPage> scan_page(IndexBackend& index, const std::optional<std::string>& after) {
  const std::size_t want = after ? job_page_size + 1 : job_page_size;
  auto entries = index.scan(after ? *after : std::string(), want);
  if (!entries) return entries.error();
  ScannedPage page{std::move(*entries), false};
  page.last = page.entries.size() < want;
  if (after && !page.entries.empty() && page.entries.front().key == *after) {
    page.entries.erase(page.entries.begin());
  }
  return page;
}

}  // namespace

RebalanceJob::RebalanceJob(IndexBackend& index, IndexWriter& writer, KeyLocks& locks,
                           VolumeClient& volumes, Topology target, std::size_t concurrency,
                           std::chrono::milliseconds grace)
    : index_(index),
      writer_(writer),
      locks_(locks),
      volumes_(volumes),
      target_(std::move(target)),
      concurrency_(std::max<std::size_t>(concurrency, 1)),
      grace_(grace) {}

std::vector<std::string> RebalanceJob::take_notes() { return std::exchange(notes_, {}); }

net::awaitable<Result<bool>> RebalanceJob::step() {
  if (!journal_checked_) {
    journal_checked_ = true;
    auto left = index_.read_journal(rebalance_journal);
    if (!left) co_return left.error();
    if (*left) {
      auto journal = parse_journal(**left);
      if (!journal) co_return journal.error();
      notes_.push_back("rebalance: finishing the interrupted run recorded in the journal (" +
                       std::to_string(journal->size()) + " keys)");
      // Its redirects are old: due at once.
      pending_.push_back({std::move(*journal), std::chrono::steady_clock::now() - grace_});
      if (auto finished = co_await delete_pending(true); !finished) co_return finished.error();
      if (auto removed = index_.remove_journal(rebalance_journal); !removed) {
        co_return removed.error();
      }
      co_return true;
    }
  }
  if (!done_ && !stopping_) {
    auto page = scan_page(index_, after_);
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
    if (auto removed = index_.remove_journal(rebalance_journal); !removed) {
      co_return removed.error();
    }
    journal_written_ = false;
  }
  if (!stopping_ && counts_.keys_failed == 0 && counts_.delete_failures == 0) {
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
                                     m.before.size, m.before.md5);
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
  auto current = index_.get(m.key);
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
    if (!replanned) co_return;  // its writer placed it
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
  const Write write{m.key, m.after, Expected::record(m.before)};
  auto applied = co_await writer_.apply(write);
  if (!applied) {
    counts_.keys_failed += 1;
    notes_.push_back("rebalance: cannot record the move of " + m.key + ": " +
                     message(applied.error()));
  } else if (*applied == Applied::written) {
    counts_.keys_moved += 1;
  } else {
    counts_.keys_failed += 1;  // unreachable under the key's lock, unless another process
                               // writes the index
  }
}

// Deletes key from the volume at url; returns whether it is gone (also when it was not there).
net::awaitable<bool> RebalanceJob::delete_copy(const std::string& key, const std::string& url) {
  auto volume = volumes_.pool(url);
  if (!volume) {
    notes_.push_back("rebalance: cannot delete " + key + " from " + url + ": " +
                     volume.error().detail);
    co_return false;
  }
  auto reply = co_await volume_delete(**volume, volume_target((*volume)->volume(), key));
  if (reply && removed(*reply)) {
    if (classify_answer(VolumeVerb::remove, *reply) == Answer::done) counts_.deletes += 1;
    co_return true;
  }
  notes_.push_back("rebalance: cannot delete " + key + " from " + url + ": " +
                   (reply ? "answered " + std::to_string(*reply) : reply.error().detail));
  co_return false;
}

// Under the key's lock, deletes every copy of a journalled key that its record (read there)
// does not name: the old copies of a key moved, the new ones of a move that did not commit.
net::awaitable<void> RebalanceJob::clean_key(const JournalEntry& entry, std::uint64_t& failed) {
  KeyGuard guard = co_await locks_.acquire(entry.key);
  auto record = index_.get(entry.key);
  if (!record) {
    failed += 1;
    notes_.push_back("rebalance: cannot read " + entry.key + ": " + message(record.error()));
    co_return;
  }
  std::vector<Entry> current;
  if (*record) current.push_back({entry.key, std::move(**record)});
  for (const auto& cleanup : plan_recovery(std::span(&entry, 1), current)) {
    for (const auto& url : cleanup.remove_from) {
      if (!co_await delete_copy(entry.key, url)) failed += 1;
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
    if (auto written = index_.write_journal(rebalance_journal, encode_journal(journal));
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
