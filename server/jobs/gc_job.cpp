// Garbage collection as a steppable job (see gc_job.h): workers list directories and delete
// the orphans the listings turn up, deletions first so that the orphans waiting stay few.
#include "gc_job.h"

#include "clock.h"
#include "index/reads.h"
#include "run_all.h"
#include "volume/staging.h"

#include "mkv/autoindex.h"
#include "mkv/volume.h"
#include "mkv/volume_answer.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

namespace mkv {

namespace {

// The largest directory listing read; nginx spends about 100 bytes per entry.
constexpr std::uint64_t gc_listing_limit = std::uint64_t{1} << 30;
// Listings and deletions one step starts.
constexpr std::size_t gc_work_per_step = 1000;

// What the workers of one step share: the job's parts, by reference.
struct GcStep {
  IndexBackend& index;
  VolumeClient& volumes;
  KeyLocks& locks;
  const Topology& topology;
  const GcSettings& settings;
  GcJob::Work& work;
  GcSummary& summary;
  std::vector<std::string>& notes;
  net::steady_timer wake;  // idle workers wait on it (it never expires); cancelled on news
};

// Returns the request target of orphan on its volume.
std::string orphan_target(const Volume& volume, const GcJob::Orphan& orphan) {
  return orphan.why == GcFile::staging_stray ? staging_target(volume, orphan.path)
                                             : volume_target(volume, orphan.path);
}

// Returns the URL of orphan, for people.
std::string orphan_url(const Volume& volume, const GcJob::Orphan& orphan) {
  return volume.url.substr(0, volume.url.size() - volume.path.size()) +
         orphan_target(volume, orphan);
}

// Queues dir to be listed.
void queue_directory(GcJob::Work& work, GcJob::Directory dir) {
  work.directories[dir.volume].push_back(std::move(dir));
  work.queued += 1;
}

// Takes the next directory to list: the last one queued of the next volume in turn that has one,
// so the volumes are listed evenly and each depth first.
GcJob::Directory take_directory(GcJob::Work& work) {
  const std::size_t n = work.directories.size();
  for (std::size_t k = 0;; ++k) {
    auto& stack = work.directories[(work.turn + k) % n];
    if (stack.empty()) continue;
    work.turn = (work.turn + k + 1) % n;
    work.queued -= 1;
    GcJob::Directory dir = std::move(stack.back());
    stack.pop_back();
    return dir;
  }
}

// Marks one directory of a volume as listed (or dropped); the volume is walked when it has none
// open.
void close_gc_directory(GcStep& step, std::size_t volume) {
  if (--step.work.open[volume] == 0) step.summary.volumes_done += 1;
}

// Gives up a volume: the rest of its directories are dropped, and the gc will not be complete.
void give_up_volume(GcStep& step, std::size_t volume, const std::string& reason) {
  if (step.work.unreadable[volume]) return;
  step.work.unreadable[volume] = true;
  step.summary.unreadable += 1;
  step.notes.push_back("gc: cannot read " + step.topology.urls[volume] + ": " + reason);
}

// Counts one listed file that is f, mtime by the volume's clock now, and queues it for
// deletion when it is an orphan old enough.
void judge_file(GcStep& step, std::size_t volume, std::string path, const ListingEntry& entry,
                GcFile f, std::int64_t now) {
  step.summary.files += 1;
  const auto age = file_age(entry.mtime, now);
  switch (decide_gc(f, age, step.settings.grace.count())) {
    case GcAction::keep: return;
    case GcAction::too_young: step.summary.too_young += 1; return;
    case GcAction::remove:
      step.summary.orphans += 1;
      step.summary.orphan_bytes += entry.size;
      if (f == GcFile::staging_stray) step.summary.staging += 1;
      step.work.orphans.push_back({volume, std::move(path), entry.size, *age, f});
      return;
  }
}

// Judges one entry of the directory dir of a volume listed at now.
net::awaitable<void> visit_gc_entry(GcStep& step, const GcJob::Directory& dir,
                                    const ListingEntry& entry, std::int64_t now) {
  VisitDecision d = gc_visit_entry(dir.prefix, entry);
  switch (d.visit) {
    case Visit::record: {
      auto record = co_await read_record(step.index, d.path);
      if (!record) {
        step.summary.files += 1;
        step.summary.failures += 1;
        step.notes.push_back("gc: cannot read the record of " + d.path + ": " +
                             record.error().detail);
        co_return;
      }
      const GcFile f = classify_key_file(*record, step.topology.urls[dir.volume]);
      judge_file(step, dir.volume, std::move(d.path), entry, f, now);
      co_return;
    }
    case Visit::descend:
      queue_directory(step.work, {dir.volume, std::move(d.path), false});
      step.work.open[dir.volume] += 1;
      co_return;
    case Visit::skip_invalid:
      // A file that cannot be a key is an orphan; a directory that cannot hold keys is left.
      if (entry.kind == ListingKind::file) {
        judge_file(step, dir.volume, std::move(d.path), entry, GcFile::not_a_key, now);
      }
      co_return;
    case Visit::skip_reserved:  // the staging directory is listed on its own
    case Visit::skip_other: co_return;
  }
}

// Lists the staging directory of a volume and judges its files.
net::awaitable<void> list_staging_directory(GcStep& step, std::size_t volume, VolumePool& pool) {
  auto listing = co_await list_staging(pool);
  if (!listing) {
    give_up_volume(step, volume, listing.error().detail);
    co_return;
  }
  auto intents = step.index.intents();
  if (!intents) {
    step.summary.failures += 1;
    step.notes.push_back("gc: cannot read the unfinished overwrites, so no staging file on " +
                         step.topology.urls[volume] + " is collected: " + intents.error().detail);
    co_return;
  }
  std::set<std::string> held;
  for (const auto& intent : *intents) held.insert(intent.token);
  const std::int64_t now = volume_now(listing->date, unix_seconds());
  step.summary.directories += 1;
  for (const auto& entry : listing->files) {
    const GcFile f = held.contains(entry.name) ? GcFile::staging_held : GcFile::staging_stray;
    judge_file(step, volume, entry.name, entry, f, now);
  }
}

// Lists one directory and judges its entries.
net::awaitable<void> list_gc_directory(GcStep& step, GcJob::Directory dir) {
  const Volume& volume = step.topology.volumes[dir.volume];
  auto pool = step.volumes.pool(volume.url);
  if (!pool) {
    give_up_volume(step, dir.volume, pool.error().detail);
    co_return;
  }
  if (dir.staging) {
    co_await list_staging_directory(step, dir.volume, **pool);
    co_return;
  }
  const std::string target = listing_target(volume, dir.prefix);
  auto reply = co_await volume_get(**pool, target, gc_listing_limit);
  if (!reply) {
    give_up_volume(step, dir.volume, reply.error().detail);
    co_return;
  }
  if (classify_answer(VolumeVerb::get, reply->status) == Answer::absent &&
      absent_listing_is_empty(dir.prefix)) {
    co_return;  // no upload wrote there yet
  }
  if (classify_answer(VolumeVerb::get, reply->status) != Answer::done) {
    give_up_volume(step, dir.volume,
                   "GET " + target + " answered " + std::to_string(reply->status));
    co_return;
  }
  auto entries = parse_autoindex(reply->body);
  if (!entries) {
    give_up_volume(step, dir.volume, "GET " + target + ": " + entries.error().detail);
    co_return;
  }
  const std::int64_t now = volume_now(reply->date, unix_seconds());
  step.summary.directories += 1;
  for (const auto& entry : *entries) co_await visit_gc_entry(step, dir, entry, now);
}

// Deletes one orphan (in a dry run, notes it) unless, re-checked under its key's write lock, its
// key's record names its volume after all.
net::awaitable<void> collect(GcStep& step, GcJob::Orphan orphan) {
  const Volume& volume = step.topology.volumes[orphan.volume];
  std::optional<KeyGuard> guard;
  if (orphan.why == GcFile::unindexed || orphan.why == GcFile::elsewhere) {
    guard.emplace(co_await step.locks.acquire(orphan.path));
    auto record = co_await read_record(step.index, orphan.path);
    if (!record) {
      step.summary.failures += 1;
      step.notes.push_back("gc: cannot read the record of " + orphan.path + ": " +
                           record.error().detail);
      co_return;
    }
    if (classify_key_file(*record, volume.url) == GcFile::named) {
      step.summary.reclaimed += 1;
      co_return;
    }
  }
  const std::string url = orphan_url(volume, orphan);
  if (step.settings.dry_run) {
    step.summary.deleted += 1;
    step.summary.bytes_freed += orphan.size;
    step.notes.push_back(format_gc_would_delete(url, orphan.size, orphan.age, orphan.why));
    co_return;
  }
  auto pool = step.volumes.pool(volume.url);
  if (!pool) {
    step.summary.failures += 1;
    step.notes.push_back("gc: DELETE " + url + " failed: " + pool.error().detail);
    co_return;
  }
  const VolumeReply reply = co_await volume_delete(**pool, orphan_target(volume, orphan));
  if (reply && removed(*reply)) {
    step.summary.deleted += 1;
    step.summary.bytes_freed += orphan.size;
    co_return;
  }
  step.summary.failures += 1;
  step.notes.push_back("gc: DELETE " + url + " failed: " +
                       (reply ? "answered " + std::to_string(*reply) : reply.error().detail));
}

// One of a step's workers: deletes queued orphans, else lists queued directories, until the
// step's budget is spent or nothing is queued or in flight.
net::awaitable<void> gc_worker(GcStep& step) {
  GcJob::Work& work = step.work;
  for (;;) {
    if (work.budget == 0 || (work.orphans.empty() && work.queued == 0 && work.busy == 0)) {
      step.wake.cancel();  // the step is over: let the other idle workers see it
      co_return;
    }
    if (!work.orphans.empty()) {
      GcJob::Orphan orphan = std::move(work.orphans.front());
      work.orphans.pop_front();
      work.budget -= 1;
      work.busy += 1;
      co_await collect(step, std::move(orphan));
      work.busy -= 1;
    } else if (work.queued > 0) {
      GcJob::Directory dir = take_directory(work);
      work.budget -= 1;
      const std::size_t volume = dir.volume;
      if (!work.unreadable[volume]) {
        work.busy += 1;
        co_await list_gc_directory(step, std::move(dir));
        work.busy -= 1;
      }
      close_gc_directory(step, volume);
    } else {
      // (Not expires_at() here: it would cancel the other idle workers' waits.)
      co_await step.wake.async_wait(as_values);
      continue;
    }
    step.wake.cancel();  // work may be queued, or the gc may be over
  }
}

}  // namespace

GcJob::GcJob(IndexBackend& index, VolumeClient& volumes, KeyLocks& locks, Topology topology,
             GcSettings settings)
    : index_(index),
      volumes_(volumes),
      locks_(locks),
      topology_(std::move(topology)),
      settings_(settings) {
  settings_.concurrency = std::max<std::size_t>(settings_.concurrency, 1);
  const std::size_t n = topology_.volumes.size();
  summary_.volumes = n;
  work_.open.assign(n, 2 + record_areas.size());  // its root, staging and record areas
  work_.unreadable.assign(n, false);
  work_.directories.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    queue_directory(work_, {i, "", true});
    queue_directory(work_, {i, "", false});
    for (const auto area : record_areas) queue_directory(work_, {i, std::string(area), false});
  }
}

net::awaitable<Result<bool>> GcJob::step() {
  if (stopping_) co_return false;
  work_.budget = gc_work_per_step;
  GcStep step{
      index_,
      volumes_,
      locks_,
      topology_,
      settings_,
      work_,
      summary_,
      notes_,
      net::steady_timer(co_await net::this_coro::executor, net::steady_timer::time_point::max())};
  co_await run_all(settings_.concurrency, [&](std::size_t) { return gc_worker(step); });
  co_return work_.queued > 0 || !work_.orphans.empty();
}

std::vector<std::string> GcJob::take_notes() {
  return std::exchange(notes_, {});
}

}  // namespace mkv
