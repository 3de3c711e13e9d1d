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

RebalanceJob::RebalanceJob(IndexBackend& index, VolumeClient& volumes, Topology target,
                           std::size_t concurrency)
    : index_(index),
      volumes_(volumes),
      target_(std::move(target)),
      concurrency_(std::max<std::size_t>(concurrency, 1)) {}

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
      if (auto finished = co_await finish_journal(std::move(*journal)); !finished) {
        co_return finished.error();
      }
      co_return true;
    }
  }
  if (done_) co_return false;
  auto page = scan_page(index_, after_);
  if (!page) co_return page.error();
  if (page->entries.empty()) {
    done_ = true;
    co_return false;
  }
  after_ = page->entries.back().key;
  auto moves = plan_rebalance(page->entries, target_.urls, target_.replicas);
  if (!moves) co_return moves.error();
  counts_.keys_scanned += page->entries.size();
  counts_.keys_planned += moves->size();
  if (!moves->empty()) {
    if (auto done = co_await execute_page(std::move(*moves)); !done) co_return done.error();
  }
  done_ = page->last;
  co_return !done_;
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

// Makes every copy m needs; sets copied when all of them are made.
net::awaitable<void> RebalanceJob::make_copies(const Move& m, char& copied) {
  for (const auto& target : m.copy_to) {
    auto made = co_await copy_move(m, target);
    if (!made) {
      notes_.push_back("rebalance: cannot copy " + m.key + " to " + target + ": " +
                       made.error().detail);
      co_return;
    }
    counts_.copies += 1;
    counts_.bytes += m.before.size;
  }
  copied = 1;
}

// Deletes key from the volume at url; sets deleted when it is gone (also when it was not there).
net::awaitable<void> RebalanceJob::delete_copy(std::string key, std::string url, char& deleted) {
  auto volume = volumes_.pool(url);
  if (!volume) {
    notes_.push_back("rebalance: cannot delete " + key + " from " + url + ": " +
                     volume.error().detail);
    co_return;
  }
  auto reply = co_await volume_delete(**volume, volume_target((*volume)->volume(), key));
  if (reply && removed(*reply)) {
    deleted = 1;
    if (classify_answer(VolumeVerb::remove, *reply) == Answer::done) counts_.deletes += 1;
    co_return;
  }
  notes_.push_back("rebalance: cannot delete " + key + " from " + url + ": " +
                   (reply ? "answered " + std::to_string(*reply) : reply.error().detail));
}

// Deletes every copy plan_recovery names for a journal, then removes the journal; keeps it and
// fails if a delete failed.
net::awaitable<Result<void>> RebalanceJob::finish_journal(std::vector<JournalEntry> journal) {
  auto current = current_records(index_, journal);
  if (!current) co_return current.error();
  std::vector<std::pair<std::string, std::string>> deletes;  // key, volume URL
  for (auto& cleanup : plan_recovery(journal, *current)) {
    for (auto& url : cleanup.remove_from) deletes.emplace_back(cleanup.key, std::move(url));
  }
  std::vector<char> deleted(deletes.size(), 0);
  co_await for_each_bounded(deletes.size(), concurrency_, [&](std::size_t i) {
    return delete_copy(deletes[i].first, deletes[i].second, deleted[i]);
  });
  const auto failed = static_cast<std::uint64_t>(std::count(deleted.begin(), deleted.end(), 0));
  if (failed > 0) {
    counts_.delete_failures += failed;
    co_return Error::volume_request_failed(std::to_string(failed) +
                                           " deletes failed; the journal keeps them for the "
                                           "next run");
  }
  co_return index_.remove_journal(rebalance_journal);
}

// Journals a page's moves, makes their copies, writes the records of the moves whose copies
// were all made (each only if the key still holds the record the move was planned from), and
// finishes the journal.
net::awaitable<Result<void>> RebalanceJob::execute_page(std::vector<Move> moves) {
  std::vector<JournalEntry> journal = journal_entries(moves);
  if (auto written = index_.write_journal(rebalance_journal, encode_journal(journal)); !written) {
    co_return written.error();
  }
  std::vector<char> copied(moves.size(), 0);
  co_await for_each_bounded(moves.size(), concurrency_,
                            [&](std::size_t i) { return make_copies(moves[i], copied[i]); });
  std::vector<Write> writes;
  for (std::size_t i = 0; i < moves.size(); ++i) {
    if (copied[i]) {
      writes.push_back({moves[i].key, moves[i].after, Expected::record(moves[i].before)});
    } else {
      counts_.keys_failed += 1;
    }
  }
  if (!writes.empty()) {
    auto applied = index_.apply(writes);
    if (!applied) co_return applied.error();
    for (std::size_t i = 0; i < writes.size(); ++i) {
      if ((*applied)[i] == Applied::written) {
        counts_.keys_moved += 1;
      } else {
        counts_.keys_failed += 1;
        notes_.push_back("rebalance: " + writes[i].key +
                         " changed while it was being moved; left for the next run");
      }
    }
  }
  co_return co_await finish_journal(std::move(journal));
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
