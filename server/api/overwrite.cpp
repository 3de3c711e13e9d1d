// Finishing overwrites (see overwrite.h).
#include "overwrite.h"

#include "index/reads.h"
#include "index/shared.h"

#include "copies.h"
#include "log.h"
#include "run_all.h"
#include "volume/staging.h"

#include "mkv/rollback.h"
#include "mkv/volume.h"
#include "mkv/volume_answer.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace mkv {

namespace {

// Moves one staged file onto the key; sets moved when the volume did, or, when recovering,
// when the staged file is gone (moved by the run that a crash cut short).
net::awaitable<void> move_one(Destination staged, std::string key, bool recovering, char& moved) {
  const auto& volume = staged.volume->volume();
  auto reply = co_await volume_move(*staged.volume, staged.target, volume_target(volume, key));
  const auto answer = reply ? classify_answer(VolumeVerb::move, *reply) : Answer::failed;
  moved = answer == Answer::done || (recovering && answer == Answer::absent);
  if (!moved) {
    log_line("MOVE " + staged.target + " on " + volume.url + " failed: " +
             (reply ? std::to_string(*reply) : reply.error().detail));
  }
}

// Returns where intent's body is staged: its token on each of its volumes.
std::vector<Destination> staged_copies(App& app, const Intent& intent) {
  std::vector<Destination> staged;
  for (const auto& url : intent.volumes) {
    auto volume = app.volumes.pool(url);
    if (volume) staged.push_back({*volume, staging_target((*volume)->volume(), intent.token)});
  }
  return staged;
}

// The staging files on one volume that no intent names.
struct Strays {
  VolumePool* volume = nullptr;
  std::vector<std::string> names;
};

// Lists, on the volume at url, the staging files whose token is not in keep.
net::awaitable<void> find_strays(App& app, std::string url, const std::set<std::string>& keep,
                                 Strays& out) {
  auto volume = app.volumes.pool(url);
  if (!volume) co_return;
  auto listing = co_await list_staging(**volume);
  if (!listing) co_return;
  out.volume = *volume;
  for (const auto& e : listing->files) {
    if (!keep.contains(e.name)) out.names.push_back(e.name);
  }
}

// Deletes the stray staging files of one volume.
net::awaitable<void> remove_strays(const Strays& strays) {
  if (strays.names.empty()) co_return;
  VolumePool& volume = *strays.volume;
  co_await run_all(strays.names.size(), [&](std::size_t i) {
    return remove_quietly(volume, staging_target(volume.volume(), strays.names[i]));
  });
  log_line("deleted " + std::to_string(strays.names.size()) +
           " staging files no overwrite needs on " + volume.volume().url);
}

}  // namespace

net::awaitable<Result<bool>> finish_overwrite(App& app, Intent intent, Record committed,
                                              bool recovering) {
  const std::vector<Destination> staged = staged_copies(app, intent);
  std::vector<char> moved(staged.size(), 0);  // not vector<bool>: written concurrently
  co_await run_all(staged.size(), [&](std::size_t i) {
    return move_one(staged[i], intent.key, recovering, moved[i]);
  });
  const MoveDecision decision = decide_after_moves(std::vector<bool>(moved.begin(), moved.end()));
  Record final_record = committed;
  switch (decision.action) {
    case MoveDecision::Action::keep: break;
    case MoveDecision::Action::narrow:
      final_record.volumes = pick(committed.volumes, decision.kept);
      break;
    case MoveDecision::Action::revert: final_record = intent.previous; break;
  }
  Write settle{intent.key, final_record, Expected::record(committed), std::nullopt,
               intent.token};
  // Fewer copies than the write made: marked, so that repair makes the missing ones.
  if (decision.action == MoveDecision::Action::narrow) settle.repair = RepairMark::set;
  auto settled = co_await app.writer.apply(settle);
  if (!settled) co_return settled.error();
  if (*settled != Applied::written) {
    log_line("overwrite of " + intent.key + " not settled: the key changed meanwhile");
  }
  std::vector<Destination> leftovers;
  for (std::size_t i : decision.failed) leftovers.push_back(staged[i]);
  co_await remove_written(std::move(leftovers));
  co_await remove_copies(app, intent.key, stale_copies(intent.previous, final_record));
  co_return decision.action == MoveDecision::Action::keep;
}

// Returns whether the intent called token is still recorded (another server sharing the
// index may have finished it while this one waited for the key).
net::awaitable<Result<bool>> still_recorded(App& app, const std::string& token) {
  auto intents = app.index.intents();
  if (!intents) co_return intents.error();
  co_return std::any_of(intents->begin(), intents->end(),
                        [&](const Intent& i) { return i.token == token; });
}

net::awaitable<void> recover_overwrites(App& app) {
  auto intents = app.index.intents();
  if (!intents) {
    log_line("cannot read the overwrites in progress: " + intents.error().detail);
    co_return;
  }
  std::set<std::string> unfinished;
  for (auto& intent : *intents) {
    // Under the key's lock: on a shared index, the intent may be another live server's
    // overwrite in progress, which holds the key until it has settled it.
    KeyGuard guard = co_await app.locks.acquire(intent.key);
    if constexpr (!index_in_files) {
      auto recorded = co_await still_recorded(app, intent.token);
      if (!recorded || !*recorded) continue;
    }
    auto current = co_await read_record(app.index, intent.key);
    if (!current) {
      log_line("cannot finish the overwrite of " + intent.key + ": " + current.error().detail);
      unfinished.insert(intent.token);
      continue;
    }
    const std::string token = intent.token;
    if (!*current) {  // deleted since: nothing to move
      const Write end{intent.key, std::nullopt, Expected::absent(), std::nullopt, token};
      if (auto ended = co_await app.writer.apply(end); !ended) unfinished.insert(token);
      continue;
    }
    log_line("finishing the overwrite of " + intent.key + " a crash cut short");
    auto finished =
        co_await finish_overwrite(app, std::move(intent), std::move(**current), true);
    if (!finished) {
      log_line("cannot finish an overwrite: " + finished.error().detail);
      unfinished.insert(token);
    }
  }
  // Staging files no intent names are left by a crash, unless other servers share the index:
  // then they may be the staged bodies of their overwrites in flight. Each such overwrite holds
  // its key's lease from before it stages until after its move, so the files are listed first
  // and deleted only if no other server holds a live lease after that; otherwise gc deletes
  // them once they are old.
  const auto topology = app.topology.load();
  std::vector<Strays> strays(topology->urls.size());
  co_await run_all(topology->urls.size(), [&](std::size_t i) {
    return find_strays(app, topology->urls[i], unfinished, strays[i]);
  });
  const auto found = std::count_if(strays.begin(), strays.end(),
                                   [](const Strays& s) { return !s.names.empty(); });
  if (found == 0) co_return;
  auto busy = co_await others_writing(app.index);
  if (!busy || *busy) {
    log_line("left the staging files no intent names on " + std::to_string(found) +
             " volumes: other servers sharing the index are writing, and they may be theirs "
             "(gc deletes them once they are old)");
    co_return;
  }
  co_await run_all(strays.size(), [&](std::size_t i) { return remove_strays(strays[i]); });
}

}  // namespace mkv
