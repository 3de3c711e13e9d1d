// A rebuild as a steppable job (see rebuild_job.h): each step merges the volumes' key-ordered
// walks into the next batch of records and writes it to the new index; the last one puts the
// new index in place.
#include "rebuild_job.h"

#include "run_all.h"

#include "mkv/rebuild_walk.h"

#include <algorithm>
#include <utility>

namespace mkv {

namespace {

// Keys per index transaction while writing the new index (one per step).
constexpr std::size_t batch_size = 10000;
// Entries of the old index read at once while its checksums are carried over.
constexpr std::size_t old_page_size = 1000;

// Lists the walk's directories until its next file is known; a failure is in the tally.
net::awaitable<void> advance_walk(VolumeWalk& walk) {
  (void)co_await walk.advance();
}

}  // namespace

RebuildJob::RebuildJob(std::string location, VolumeClient& volumes, Topology topology,
                       std::size_t concurrency)
    : location_(std::move(location)),
      volumes_(volumes),
      topology_(std::move(topology)),
      tally_(std::make_shared<WalkTally>()) {
  const std::size_t n = topology_.volumes.size();
  concurrency = std::max<std::size_t>(concurrency, 1);
  tally_->counts.volumes = n;
  tally_->unreadable.resize(n);
  tally_->ahead_limit = concurrency;
  // Each volume lists its share of the directories ahead in every directory on its path; the
  // tally caps them all at `concurrency` in flight.
  const std::size_t lookahead =
      std::max<std::size_t>((concurrency + n - 1) / std::max<std::size_t>(n, 1), 1);
  walks_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    walks_.emplace_back(volumes_, topology_.volumes[i], i, lookahead, tally_);
  }
}

WalkProgress RebuildJob::walk_progress() const {
  WalkProgress p = tally_->counts;
  p.keys = summary_.keys;
  return p;
}

net::awaitable<Result<bool>> RebuildJob::step() {
  if (phase_ == Phase::finished) co_return false;
  Result<bool> more = false;
  if (!replacement_) {
    if (auto opened = open_indexes(); !opened) more = opened.error();
  }
  if (more) {
    std::vector<Write> batch;
    batch.reserve(batch_size);
    std::vector<std::optional<std::string_view>> heads(walks_.size());
    bool walked = false;
    while (batch.size() < batch_size) {
      const bool all_ready =
          std::all_of(walks_.begin(), walks_.end(), [](const VolumeWalk& w) { return w.ready(); });
      if (!all_ready) {
        if (auto ready = co_await ready_heads(); !ready) {
          more = ready.error();
          break;
        }
      }
      for (std::size_t i = 0; i < walks_.size(); ++i) {
        const WalkItem* head = walks_[i].head();
        heads[i] = head ? std::optional<std::string_view>(head->path) : std::nullopt;
      }
      const std::vector<std::size_t> lowest = lowest_heads(heads);
      if (lowest.empty()) {
        walked = true;
        break;
      }
      std::string key = walks_[lowest.front()].head()->path;
      std::vector<Sighting> copies;
      copies.reserve(lowest.size());
      for (const std::size_t i : lowest) {
        const WalkItem& item = *walks_[i].head();
        copies.push_back({topology_.urls[i], item.size, item.mtime});
        walks_[i].pop();
      }
      RebuiltKey k = rebuild_key(std::move(key), copies, topology_.urls, topology_.replicas);
      summary_ = tally(summary_, k);
      keep_old_checksum(k);
      batch.push_back({std::move(k.key), std::move(k.record)});
    }
    if (more) {
      if (auto failed = fail_unreadable(); !failed) more = failed.error();  // found ahead
    }
    if (more && !batch.empty()) {
      if (auto applied = replacement_->apply(batch); !applied) more = applied.error();
    }
    if (more) more = walked ? finish() : Result<bool>(true);
  }
  if (!more) {
    old_.reset();
    replacement_.reset();
    (void)IndexBackend::discard_replacement(location_);
  }
  co_return more;
}

Result<void> RebuildJob::open_indexes() {
  // The old index, while it can still be read, knows the checksums nginx cannot list.
  if (IndexBackend::exists(location_)) {
    auto old = IndexBackend::open(location_);
    if (old) old_.emplace(std::move(*old));
  }
  auto replacement = IndexBackend::open_replacement(location_);
  if (!replacement) return replacement.error();
  replacement_.emplace(std::move(*replacement));
  return {};
}

// Advances every walk whose next file is not known yet, all at once, and fails naming every
// volume that could not be read (also one a listing ahead found unreadable).
net::awaitable<Result<void>> RebuildJob::ready_heads() {
  std::vector<std::size_t> waiting;
  for (std::size_t i = 0; i < walks_.size(); ++i) {
    if (!walks_[i].ready()) waiting.push_back(i);
  }
  if (!waiting.empty()) {
    co_await run_all(waiting.size(),
                     [&](std::size_t j) { return advance_walk(walks_[waiting[j]]); });
  }
  co_return fail_unreadable();
}

Result<void> RebuildJob::fail_unreadable() {
  for (std::size_t i = 0; i < walks_.size(); ++i) {
    if (tally_->unreadable[i])
      unreadable_report_.push_back({topology_.urls[i], *tally_->unreadable[i]});
  }
  if (unreadable_report_.empty()) return {};
  return Error::volume_request_failed(std::to_string(unreadable_report_.size()) +
                                      " of the volumes could not be read");
}

// The rebuilt keys ascend, so the old index is read alongside, a page at a time.
void RebuildJob::keep_old_checksum(RebuiltKey& k) {
  if (!old_) return;
  old_position_ = seek_page(old_page_, old_position_, k.key);
  if (old_position_ == old_page_.size() && !old_page_last_) {
    auto page = old_->scan(k.key, old_page_size);
    if (!page) {  // the old index cannot be read: the checksums left are unknown
      old_.reset();
      return;
    }
    old_page_ = std::move(*page);
    old_page_last_ = old_page_.size() < old_page_size;
    old_position_ = 0;
  }
  if (old_position_ == old_page_.size() || old_page_[old_position_].key != k.key) return;
  if (auto kept = with_old_checksum(k.record, old_page_[old_position_].record)) {
    k.record = std::move(*kept);
    summary_.checksums_kept += 1;
  }
}

Result<bool> RebuildJob::finish() {
  summary_.skipped = tally_->skipped;
  old_.reset();  // closed before the replacement takes its place
  old_page_.clear();
  auto replaced = IndexBackend::replace(location_, std::move(*replacement_));
  replacement_.reset();
  if (!replaced) return replaced.error();
  phase_ = Phase::finished;
  return false;
}

}  // namespace mkv
