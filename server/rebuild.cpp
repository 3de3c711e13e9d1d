// `mkv rebuild` (see rebuild.h): walk, then write the new index, then put it in place.
#include "rebuild.h"

#include "owner_lock.h"
#include "parallel.h"
#include "progress.h"
#include "sync_directory.h"

#include "mkv/autoindex.h"
#include "mkv/ops_progress.h"
#include "mkv/rebuild.h"

#include <boost/asio/experimental/as_tuple.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mkv {

namespace {

constexpr auto as_values = net::experimental::as_tuple(net::use_awaitable);

// The largest directory listing read; nginx spends about 100 bytes per entry.
constexpr std::uint64_t listing_limit = std::uint64_t{1} << 30;
// Keys per index transaction while writing the new index.
constexpr std::size_t batch_size = 10000;
// Skipped entries named in the report; the rest are only counted.
constexpr std::size_t skipped_shown = 10;

// A directory to list: which volume (an index into Config::volumes) and its key prefix.
struct Directory {
  std::size_t volume = 0;
  std::string prefix;
};

// The walk of every volume: the directories still to list, and what was found so far. The
// workers share it on one thread, so it needs no lock.
struct Walk {
  const Config& config;
  VolumeClient& client;
  ProgressLine& progress;
  net::steady_timer wake;          // idle workers wait on it (it never expires); cancelled
                                   // when there is news
  std::deque<Directory> queue{};   // directories to list
  std::size_t listing = 0;         // directories being listed right now
  std::vector<std::size_t> open{}; // per volume: its directories queued or being listed
  std::vector<std::optional<std::string>> unreadable{};  // per volume: why it was given up
  std::map<std::string, KeyCopies> keys{};  // every key found, with its record so far
  WalkProgress counts{};
  std::uint64_t skipped = 0;
  std::vector<std::string> skipped_examples{};
};

WalkProgress walk_counts(const Walk& walk) {
  WalkProgress p = walk.counts;
  p.keys = walk.keys.size();
  p.seconds = walk.progress.seconds();
  return p;
}

// Marks one directory of a volume as done; the volume is done when it has none open.
void close_directory(Walk& walk, std::size_t volume) {
  if (--walk.open[volume] == 0) walk.counts.volumes_done += 1;
}

// Gives up a volume: the rest of its directories are dropped, the rebuild will fail.
void give_up(Walk& walk, std::size_t volume, std::string reason) {
  if (!walk.unreadable[volume]) walk.unreadable[volume] = std::move(reason);
}

// Records what one listed entry of dir is.
void visit(Walk& walk, const Directory& dir, const ListingEntry& entry) {
  const Volume& volume = walk.config.volumes[dir.volume];
  VisitDecision d = visit_entry(dir.prefix, entry);
  switch (d.visit) {
    case Visit::record: {
      auto [it, inserted] = walk.keys.try_emplace(std::move(d.path));
      it->second = merge_sighting(std::move(it->second), it->first, Sighting{volume.url, entry.size},
                                  walk.config.volume_urls);
      walk.counts.files += 1;
      walk.counts.bytes += entry.size;
      return;
    }
    case Visit::descend:
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

// Lists one directory and records its entries.
net::awaitable<void> list_directory(Walk& walk, Directory dir) {
  const Volume& volume = walk.config.volumes[dir.volume];
  const std::string target = listing_target(volume, dir.prefix);
  auto reply = co_await walk.client.get(volume.url, target, listing_limit);
  if (!reply) {
    give_up(walk, dir.volume, reply.error().detail);
    co_return;
  }
  if (reply->first != 200) {
    give_up(walk, dir.volume, "GET " + target + " answered " + std::to_string(reply->first));
    co_return;
  }
  auto entries = parse_autoindex(reply->second);
  if (!entries) {
    give_up(walk, dir.volume, "GET " + target + ": " + entries.error().detail);
    co_return;
  }
  walk.counts.directories += 1;
  for (const auto& entry : *entries) visit(walk, dir, entry);
}

// One of the walk's workers: lists queued directories until none is queued or being listed.
net::awaitable<void> walk_worker(Walk& walk) {
  for (;;) {
    if (walk.queue.empty()) {
      if (walk.listing == 0) {
        walk.wake.cancel();  // the walk is over: let the other idle workers see it
        co_return;
      }
      // (Not expires_at() here: it would cancel the other idle workers' waits.)
      co_await walk.wake.async_wait(as_values);
      continue;
    }
    Directory dir = std::move(walk.queue.front());
    walk.queue.pop_front();
    const std::size_t volume = dir.volume;
    if (!walk.unreadable[volume]) {
      walk.listing += 1;
      co_await list_directory(walk, std::move(dir));
      walk.listing -= 1;
    }
    close_directory(walk, volume);
    walk.wake.cancel();  // new directories may be queued, or the walk may be over
    if (walk.progress.due()) walk.progress.show(format_walk_progress(walk_counts(walk)));
  }
}

// Walks every volume with `workers` listings in flight at most.
net::awaitable<void> walk_volumes(Walk& walk, std::size_t workers) {
  co_await run_all(workers, [&](std::size_t) { return walk_worker(walk); });
}

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Removes path if it exists; returns an error if it exists and cannot be removed.
Result<void> remove_file(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return Error::database("cannot remove " + path + ": " + ec.message());
  return {};
}


// The files an index backend may keep beside its main file (SQLite's write-ahead log and
// shared memory, its rollback journal, LMDB's lock table).
constexpr const char* companion_suffixes[] = {"-wal", "-shm", "-journal", "-lock"};

// Removes the index at path and every companion file of it.
Result<void> remove_index_files(const std::string& path) {
  if (auto removed = remove_file(path); !removed) return removed.error();
  for (const char* suffix : companion_suffixes) {
    if (auto removed = remove_file(path + suffix); !removed) return removed.error();
  }
  return {};
}

// Writes every key of keys into a new index at path, emptying keys as it goes; returns what
// was indexed.
Result<RebuildSummary> write_index(const std::string& path, std::map<std::string, KeyCopies>& keys,
                                   const Config& config, ProgressLine& progress) {
  if (auto removed = remove_index_files(path); !removed) return removed.error();
  auto index = IndexBackend::open(path);
  if (!index) return index.error();
  const std::uint64_t total = keys.size();
  RebuildSummary summary;
  std::vector<Write> batch;
  batch.reserve(std::min<std::uint64_t>(batch_size, total));
  while (!keys.empty()) {
    auto node = keys.extract(keys.begin());
    RebuiltKey k;
    k.key = std::move(node.key());
    k.record = std::move(node.mapped().record);
    k.discarded = std::move(node.mapped().discarded);
    k.health = assess_record(k.key, k.record, config.volume_urls, config.replicas);
    summary = tally(summary, k);
    batch.push_back({std::move(k.key), std::move(k.record)});
    if (batch.size() == batch_size || keys.empty()) {
      if (auto applied = index->apply(batch); !applied) return applied.error();
      batch.clear();
      if (progress.due()) progress.show(format_index_write_progress(summary.keys, total));
    }
  }
  progress.finish(format_index_write_progress(summary.keys, total));
  return summary;
}

// Puts the index at rebuilt in place of the one at db with a single rename. The old index is
// opened and closed first, so that SQLite folds its write-ahead log into the database file: a
// log left beside db would otherwise be read as part of the new index.
Result<void> replace_index(const std::string& db, const std::string& rebuilt) {
  if (exists(rebuilt + "-wal")) {
    return Error::database("the new index " + rebuilt + " still has a write-ahead log");
  }
  if (exists(db)) {
    auto old = IndexBackend::open(db);
    if (!old && exists(db + "-wal")) {
      return Error::database("cannot open the old index to fold in its write-ahead log (" +
                             old.error().detail + "); move " + db + " and " + db +
                             "-wal aside and run rebuild again");
    }
  }  // the old index closes here
  if (exists(db + "-wal")) {
    return Error::database(db + "-wal is still there after closing the old index; is another "
                           "program using it?");
  }
  if (auto removed = remove_file(db + "-shm"); !removed) return removed.error();
  std::error_code ec;
  std::filesystem::rename(rebuilt, db, ec);
  if (ec) return Error::database("cannot rename " + rebuilt + " to " + db + ": " + ec.message());
  // From here on the new index is in place; what follows is tidying up.
  (void)sync_directory_of(db);
  (void)remove_index_files(rebuilt);
  return {};
}

}  // namespace

int run_rebuild(const Config& config, const RebuildOptions& options) {
  auto owner = OwnerLock::acquire(config.db, "rebuild");
  if (!owner) {
    std::string text = "mkv rebuild: " + owner.error().detail + '\n';
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, text.data(), text.size());
    return 1;
  }
  ProgressLine progress;
  if (config.volumes.empty()) {
    progress.print("mkv rebuild: no volumes configured\n");
    return 1;
  }

  // 1. Walk every volume.
  net::io_context io;
  VolumeClient client(io.get_executor(), config.volumes, config.volume_options);
  Walk walk{.config = config,
            .client = client,
            .progress = progress,
            .wake = net::steady_timer(io, net::steady_timer::time_point::max())};
  walk.counts.volumes = config.volumes.size();
  walk.open.assign(config.volumes.size(), 1);
  walk.unreadable.resize(config.volumes.size());
  for (std::size_t i = 0; i < config.volumes.size(); ++i) walk.queue.push_back({i, ""});
  std::exception_ptr failure;
  net::co_spawn(io, walk_volumes(walk, std::max<std::size_t>(options.concurrency, 1)),
                [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);  // a bug, not an IO failure: main reports it
  progress.finish(format_walk_progress(walk_counts(walk)));
  for (const auto& example : walk.skipped_examples) progress.print("rebuild: skipped " + example + '\n');

  std::vector<UnreadableVolume> unreadable;
  for (std::size_t i = 0; i < config.volumes.size(); ++i) {
    if (walk.unreadable[i]) unreadable.push_back({config.volumes[i].url, *walk.unreadable[i]});
  }
  if (!unreadable.empty()) {
    progress.print(format_unreadable(unreadable, config.db));
    return 1;
  }

  // 2. Write the new index beside the old one, then 3. put it in place.
  const std::string rebuilt = config.db + ".rebuild";
  auto summary = write_index(rebuilt, walk.keys, config, progress);
  if (summary) {
    if (auto replaced = replace_index(config.db, rebuilt); !replaced) summary = replaced.error();
  }
  if (!summary) {
    progress.print("mkv rebuild: " + message(summary.error()) + "\nrebuild: the index " +
                   config.db + " was left unchanged\n");
    (void)remove_index_files(rebuilt);
    return 1;
  }
  summary->skipped = walk.skipped;
  const double seconds = progress.seconds();
  progress.print(format_rebuild_summary(*summary, config.replicas));
  progress.print("rebuild: replaced " + config.db + " in " + format_duration(seconds) + " (" +
                 std::to_string(per_second(summary->keys, seconds)) + " keys/s)\n");
  return 0;
}

}  // namespace mkv
