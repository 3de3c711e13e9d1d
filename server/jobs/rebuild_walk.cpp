// One volume walked in key order (see rebuild_walk.h): each directory's listing is sorted into
// walk order; the walk descends depth-first and lists the next few directories ahead.
#include "rebuild_walk.h"

#include "mkv/autoindex.h"
#include "mkv/rebuild.h"
#include "mkv/volume_answer.h"

#include <exception>
#include <utility>

namespace mkv {

namespace {

// The largest directory listing read; nginx spends about 100 bytes per entry.
constexpr std::uint64_t listing_limit = std::uint64_t{1} << 30;
// The largest bucket marker read (CreateBucket writes it empty).
constexpr std::uint64_t marker_limit = std::uint64_t{1} << 20;
// Skipped entries named in the report; the rest are only counted.
constexpr std::size_t skipped_shown = 10;

// Counts one listed entry the walk skips, naming the first few.
void count_skipped(WalkTally& tally, const Volume& volume, const VisitDecision& d) {
  tally.skipped += 1;
  if (tally.skipped_examples.size() < skipped_shown) {
    tally.skipped_examples.push_back(
        volume.url + '/' + d.path + ": " +
        (d.visit == Visit::skip_other ? std::string("not a file or directory") : d.reason));
  }
}

// Asks volume for the bucket marker `key` by name (no listing shows it) and adds the copy it
// holds, if any, to items.
net::awaitable<Result<void>> probe_marker(VolumePool& pool, const Volume& volume, std::string key,
                                          std::vector<WalkItem>& items, WalkTally& tally) {
  const std::string target = volume_target(volume, key);
  auto reply = co_await volume_get(pool, target, marker_limit);
  if (!reply) co_return Error::volume_request_failed("GET " + target + ": " + reply.error().detail);
  auto copy = probed_copy(volume.url, reply->status, reply->body.size(), reply->last_modified);
  if (!copy) co_return Error::volume_request_failed("GET " + target + " " + copy.error().detail);
  if (*copy) {
    tally.counts.files += 1;
    tally.counts.bytes += (*copy)->size;
    items.push_back({std::move(key), false, (*copy)->size, (*copy)->mtime});
  }
  co_return Result<void>{};
}

// Returns the items of the directory prefix of volume in walk order (with its bucket marker
// when it is a top-level directory), counting what it finds and skips in tally.
net::awaitable<Result<std::vector<WalkItem>>> list_items(VolumeClient& volumes,
                                                         const Volume& volume,
                                                         const std::string& prefix,
                                                         WalkTally& tally) {
  auto pool = volumes.pool(volume.url);
  if (!pool) co_return Error::volume_request_failed(pool.error().detail);
  const std::string target = listing_target(volume, prefix);
  auto reply = co_await volume_get(**pool, target, listing_limit);
  if (!reply) co_return Error::volume_request_failed(reply.error().detail);
  if (classify_answer(VolumeVerb::get, reply->status) != Answer::done) {
    co_return Error::volume_request_failed("GET " + target + " answered " +
                                           std::to_string(reply->status));
  }
  auto entries = parse_autoindex(reply->body);
  if (!entries)
    co_return Error::volume_request_failed("GET " + target + ": " + entries.error().detail);
  reply->body = {};

  std::vector<WalkItem> items;
  items.reserve(entries->size() + 1);
  for (const auto& entry : *entries) {
    VisitDecision d = visit_entry(prefix, entry);
    switch (d.visit) {
      case Visit::record:
        tally.counts.files += 1;
        tally.counts.bytes += entry.size;
        items.push_back({std::move(d.path), false, entry.size, entry.mtime});
        break;
      case Visit::descend: items.push_back({std::move(d.path), true}); break;
      case Visit::skip_reserved: break;
      case Visit::skip_invalid:
      case Visit::skip_other: count_skipped(tally, volume, d); break;
    }
  }
  entries->clear();
  tally.counts.directories += 1;
  // Any top-level directory may be a bucket whose marker "<dir>/.mkv-bucket" (autoindex.h) is
  // a key below it; it sorts among that directory's items like any of them.
  const bool top_level = !prefix.empty() && prefix.find('/') == prefix.size() - 1;
  if (auto marker =
          top_level ? marker_probe("", VisitDecision{Visit::descend, prefix, {}}) : std::nullopt) {
    auto probed = co_await probe_marker(**pool, volume, std::move(*marker), items, tally);
    if (!probed) co_return probed.error();
  }
  co_return in_walk_order(std::move(items));
}

// Lists the directory prefix of volume (the index-th walked) into listing, and wakes the walk.
net::awaitable<void> fetch_listing(VolumeClient& volumes, Volume volume, std::size_t index,
                                   std::string prefix, std::shared_ptr<PendingListing> listing,
                                   std::shared_ptr<WalkTally> tally, bool counted) {
  Result<std::vector<WalkItem>> items = std::vector<WalkItem>{};
  try {
    items = co_await list_items(volumes, volume, prefix, *tally);
  } catch (const std::exception& e) {  // a bug, not IO: still, never leave the walk waiting
    items = Error::volume_request_failed(std::string("listing ") + prefix + ": " + e.what());
  }
  if (counted) tally->in_flight -= 1;
  if (!items && !tally->unreadable[index]) {
    tally->unreadable[index] = items.error().detail;
    tally->counts.volumes_done += 1;
  }
  listing->items = std::move(items);
  listing->ready.cancel();
}

}  // namespace

VolumeWalk::VolumeWalk(VolumeClient& volumes, Volume volume, std::size_t index,
                       std::size_t lookahead, std::shared_ptr<WalkTally> tally)
    : volumes_(volumes),
      volume_(std::move(volume)),
      index_(index),
      lookahead_(std::max<std::size_t>(lookahead, 1)),
      tally_(std::move(tally)) {}

std::shared_ptr<PendingListing> VolumeWalk::request(const std::string& prefix, bool counted) {
  auto listing = std::make_shared<PendingListing>(*executor_);
  if (counted) tally_->in_flight += 1;
  net::co_spawn(*executor_,
                fetch_listing(volumes_, volume_, index_, prefix, listing, tally_, counted),
                net::detached);
  return listing;
}

void VolumeWalk::look_ahead(Frame& frame) {
  while (frame.scanned < frame.items.size()) {
    const WalkItem& item = frame.items[frame.scanned];
    if (item.directory) {
      if (frame.ahead.size() >= lookahead_ || tally_->in_flight >= tally_->ahead_limit) return;
      frame.ahead.push_back(request(item.path, true));
    }
    frame.scanned += 1;
  }
}

net::awaitable<Result<void>> VolumeWalk::enter(std::shared_ptr<PendingListing> listing,
                                               std::string prefix) {
  while (!listing->items) co_await listing->ready.async_wait(as_values);
  if (!*listing->items) {
    ended_ = true;
    stack_.clear();
    co_return listing->items->error();
  }
  Frame& frame = stack_.emplace_back();
  frame.prefix = std::move(prefix);
  frame.items = std::move(**listing->items);
  look_ahead(stack_.back());
  // Let the other listings' replies be read: a walk whose listings are all in already never
  // waits, and the merge would otherwise hold the thread until one is missing.
  co_await net::post(*executor_, net::use_awaitable);
  co_return Result<void>{};
}

net::awaitable<Result<void>> VolumeWalk::advance() {
  if (!executor_) executor_ = co_await net::this_coro::executor;
  if (!started_) {
    started_ = true;
    if (auto root = co_await enter(request("", false), ""); !root) co_return root;
  }
  while (!ready()) {
    if (stack_.empty()) {
      ended_ = true;
      tally_->counts.volumes_done += 1;
      break;
    }
    Frame& frame = stack_.back();
    if (frame.next == frame.items.size()) {
      stack_.pop_back();
      continue;
    }
    // A directory: its listing was requested ahead (every directory before `scanned` was), or
    // is requested now.
    std::shared_ptr<PendingListing> listing;
    if (frame.next < frame.scanned) {
      listing = std::move(frame.ahead.front());
      frame.ahead.pop_front();
    } else {
      listing = request(frame.items[frame.next].path, false);
      frame.scanned = frame.next + 1;
    }
    std::string prefix = std::move(frame.items[frame.next].path);
    frame.next += 1;
    look_ahead(frame);
    if (auto entered = co_await enter(std::move(listing), std::move(prefix)); !entered) {
      co_return entered;
    }
  }
  co_return Result<void>{};
}

}  // namespace mkv
