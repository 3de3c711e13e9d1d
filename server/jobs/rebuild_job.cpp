// A rebuild as a steppable job (see rebuild_job.h): walk, then write the new index, then put
// it in place.
#include "rebuild_job.h"

#include "run_all.h"

#include "mkv/volume.h"
#include "mkv/volume_answer.h"

#include <algorithm>
#include <utility>

namespace mkv {

namespace {

// The largest directory listing read; nginx spends about 100 bytes per entry.
constexpr std::uint64_t listing_limit = std::uint64_t{1} << 30;
// The largest bucket marker read (CreateBucket writes it empty).
constexpr std::uint64_t marker_limit = std::uint64_t{1} << 20;
// Directories one step of the walk lists.
constexpr std::size_t directories_per_step = 1000;
// Keys per index transaction while writing the new index (one per step).
constexpr std::size_t batch_size = 10000;
// Skipped entries named in the report; the rest are only counted.
constexpr std::size_t skipped_shown = 10;

using Walk = RebuildJob::Walk;
using Directory = RebuildJob::Directory;

// What the workers of one step of the walk share.
struct WalkStep {
  Walk& walk;
  VolumeClient& volumes;
  const Topology& topology;
  net::steady_timer wake;  // idle workers wait on it (it never expires); cancelled on news
};

// Marks one directory of a volume as done; the volume is done when it has none open.
void close_directory(Walk& walk, std::size_t volume) {
  if (--walk.open[volume] == 0) walk.counts.volumes_done += 1;
}

// Gives up a volume: the rest of its directories are dropped, the rebuild will fail.
void give_up(Walk& walk, std::size_t volume, std::string reason) {
  if (!walk.unreadable[volume]) walk.unreadable[volume] = std::move(reason);
}

// Records a copy of key found on a volume.
void record_copy(Walk& walk, const Topology& topology, std::string key, Sighting s) {
  walk.counts.files += 1;
  walk.counts.bytes += s.size;
  auto [it, inserted] = walk.keys.try_emplace(std::move(key));
  it->second = merge_sighting(std::move(it->second), it->first, std::move(s), topology.urls);
}

// Records what one listed entry of dir is.
void visit(Walk& walk, const Topology& topology, const Directory& dir, const ListingEntry& entry) {
  const Volume& volume = topology.volumes[dir.volume];
  VisitDecision d = visit_entry(dir.prefix, entry);
  switch (d.visit) {
    case Visit::record:
      record_copy(walk, topology, std::move(d.path), Sighting{volume.url, entry.size, entry.mtime});
      return;
    case Visit::descend:
      if (auto marker = marker_probe(dir.prefix, d)) {
        walk.queue.push_back({dir.volume, std::move(*marker), true});
        walk.open[dir.volume] += 1;
      }
      walk.queue.push_back({dir.volume, std::move(d.path)});
      walk.open[dir.volume] += 1;
      return;
    case Visit::skip_reserved:
      return;
    case Visit::skip_invalid:
    case Visit::skip_other:
      walk.skipped += 1;
      if (walk.skipped_examples.size() < skipped_shown) {
        walk.skipped_examples.push_back(
            volume.url + '/' + d.path + ": " +
            (d.visit == Visit::skip_other ? std::string("not a file or directory") : d.reason));
      }
      return;
  }
}

// Asks a volume for a bucket marker by name and records the copy it holds, if any.
net::awaitable<void> probe_marker(WalkStep& step, Directory marker) {
  Walk& walk = step.walk;
  const Volume& volume = step.topology.volumes[marker.volume];
  const std::string target = volume_target(volume, marker.prefix);
  auto pool = step.volumes.pool(volume.url);
  if (!pool) {
    give_up(walk, marker.volume, pool.error().detail);
    co_return;
  }
  auto reply = co_await volume_get(**pool, target, marker_limit);
  if (!reply) {
    give_up(walk, marker.volume, "GET " + target + ": " + reply.error().detail);
    co_return;
  }
  auto copy = probed_copy(volume.url, reply->status, reply->body.size(), reply->last_modified);
  if (!copy) {
    give_up(walk, marker.volume, "GET " + target + " " + copy.error().detail);
    co_return;
  }
  if (*copy) record_copy(walk, step.topology, std::move(marker.prefix), std::move(**copy));
}

// Lists one directory and records its entries.
net::awaitable<void> list_directory(WalkStep& step, Directory dir) {
  Walk& walk = step.walk;
  const Volume& volume = step.topology.volumes[dir.volume];
  const std::string target = listing_target(volume, dir.prefix);
  auto pool = step.volumes.pool(volume.url);
  if (!pool) {
    give_up(walk, dir.volume, pool.error().detail);
    co_return;
  }
  auto reply = co_await volume_get(**pool, target, listing_limit);
  if (!reply) {
    give_up(walk, dir.volume, reply.error().detail);
    co_return;
  }
  if (classify_answer(VolumeVerb::get, reply->status) != Answer::done) {
    give_up(walk, dir.volume, "GET " + target + " answered " + std::to_string(reply->status));
    co_return;
  }
  auto entries = parse_autoindex(reply->body);
  if (!entries) {
    give_up(walk, dir.volume, "GET " + target + ": " + entries.error().detail);
    co_return;
  }
  walk.counts.directories += 1;
  for (const auto& entry : *entries) visit(walk, step.topology, dir, entry);
}

// One of the walk's workers: lists queued directories until the step's budget is spent, or
// none is queued or being listed.
net::awaitable<void> walk_worker(WalkStep& step) {
  Walk& walk = step.walk;
  for (;;) {
    if (walk.budget == 0 || (walk.queue.empty() && walk.listing == 0)) {
      step.wake.cancel();  // the step is over: let the other idle workers see it
      co_return;
    }
    if (walk.queue.empty()) {
      // (Not expires_at() here: it would cancel the other idle workers' waits.)
      co_await step.wake.async_wait(as_values);
      continue;
    }
    Directory dir = std::move(walk.queue.front());
    walk.queue.pop_front();
    walk.budget -= 1;
    const std::size_t volume = dir.volume;
    if (!walk.unreadable[volume]) {
      walk.listing += 1;
      if (dir.marker) {
        co_await probe_marker(step, std::move(dir));
      } else {
        co_await list_directory(step, std::move(dir));
      }
      walk.listing -= 1;
    }
    close_directory(walk, volume);
    step.wake.cancel();  // new directories may be queued, or the walk may be over
  }
}

}  // namespace

RebuildJob::RebuildJob(std::string location, VolumeClient& volumes, Topology topology,
                       std::size_t concurrency)
    : location_(std::move(location)),
      volumes_(volumes),
      topology_(std::move(topology)),
      concurrency_(std::max<std::size_t>(concurrency, 1)) {
  const std::size_t n = topology_.volumes.size();
  walk_.counts.volumes = n;
  walk_.open.assign(n, 1);
  walk_.unreadable.resize(n);
  for (std::size_t i = 0; i < n; ++i) walk_.queue.push_back({i, ""});
}

WalkProgress RebuildJob::walk_progress() const {
  WalkProgress p = walk_.counts;
  p.keys = walk_.keys.size();
  return p;
}

net::awaitable<Result<bool>> RebuildJob::step() {
  switch (phase_) {
    case Phase::walking: co_return co_await walk_some();
    case Phase::writing: {
      auto more = write_some();
      if (!more) (void)IndexBackend::discard_replacement(location_);
      co_return more;
    }
    case Phase::finished: co_return false;
  }
  co_return false;
}

net::awaitable<Result<bool>> RebuildJob::walk_some() {
  walk_.budget = directories_per_step;
  WalkStep step{walk_, volumes_, topology_,
                net::steady_timer(co_await net::this_coro::executor,
                                  net::steady_timer::time_point::max())};
  co_await run_all(concurrency_, [&](std::size_t) { return walk_worker(step); });
  if (!walk_.queue.empty()) co_return true;

  for (std::size_t i = 0; i < topology_.volumes.size(); ++i) {
    if (walk_.unreadable[i]) {
      unreadable_report_.push_back({topology_.urls[i], *walk_.unreadable[i]});
    }
  }
  if (!unreadable_report_.empty()) {
    co_return Error::volume_request_failed(std::to_string(unreadable_report_.size()) +
                                           " of the volumes could not be read");
  }
  // The old index, while it can still be read, knows the checksums nginx cannot list.
  if (IndexBackend::exists(location_)) {
    auto old = IndexBackend::open(location_);
    if (old) old_.emplace(std::move(*old));
  }
  auto replacement = IndexBackend::open_replacement(location_);
  if (!replacement) co_return replacement.error();
  replacement_.emplace(std::move(*replacement));
  keys_total_ = walk_.keys.size();
  summary_.skipped = walk_.skipped;
  phase_ = Phase::writing;
  co_return true;
}

Result<bool> RebuildJob::write_some() {
  std::vector<Write> batch;
  batch.reserve(std::min<std::size_t>(batch_size, walk_.keys.size()));
  while (!walk_.keys.empty() && batch.size() < batch_size) {
    auto node = walk_.keys.extract(walk_.keys.begin());
    RebuiltKey k;
    k.key = std::move(node.key());
    k.record = std::move(node.mapped().record);
    k.discarded = std::move(node.mapped().discarded);
    k.health = assess_record(k.key, k.record, topology_.urls, topology_.replicas);
    summary_ = tally(summary_, k);
    if (old_) {
      auto before = old_->get(k.key);
      if (before && *before && (*before)->size == k.record.size && (*before)->md5) {
        k.record.md5 = (*before)->md5;
        k.record.modified = (*before)->modified;
        k.record.meta = (*before)->meta;  // an S3 object's Content-Type and x-amz-meta-*
        summary_.checksums_kept += 1;
      }
    }
    batch.push_back({std::move(k.key), std::move(k.record)});
  }
  if (!batch.empty()) {
    if (auto applied = replacement_->apply(batch); !applied) return applied.error();
  }
  if (!walk_.keys.empty()) return true;
  old_.reset();  // closed before the replacement takes its place
  auto replaced = IndexBackend::replace(location_, std::move(*replacement_));
  replacement_.reset();
  if (!replaced) return replaced.error();
  phase_ = Phase::finished;
  return false;
}

}  // namespace mkv
