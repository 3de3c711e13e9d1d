// Resuming a killed rebalance: a toy deployment runs the documented per-page steps (plan,
// journal, copy, index write, plan_recovery deletes, drop the journal), is killed after every
// possible step, and is run again; no value may be lost and no extra copy may remain.
#include "mkv/rebalance_journal.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

using mkv::Entry;
using mkv::Record;

namespace {

// Volumes as sets of keys, the index, the journal file, and which volumes fail every request.
struct World {
  std::map<std::string, std::set<std::string>> disk;
  std::map<std::string, Record> index;
  std::optional<std::string> journal;
  std::set<std::string> down;
};

// Counts IO steps; a run is killed when its budget is spent.
struct Budget {
  std::size_t left;
  bool step() {
    if (left == 0) return false;
    --left;
    return true;
  }
};

enum class Run { done, killed, stopped };

// Steps 5 and 6: delete what plan_recovery says, then drop the journal (kept on a failure).
Run finish_journal(World& w, Budget& b) {
  if (!w.journal) return Run::done;
  const auto entries = mkv::parse_journal(*w.journal);
  REQUIRE(entries.has_value());
  std::vector<Entry> current;
  for (const auto& e : *entries) {
    if (const auto it = w.index.find(e.key); it != w.index.end()) {
      current.push_back({it->first, it->second});
    }
  }
  bool failed = false;
  for (const auto& c : mkv::plan_recovery(*entries, current)) {
    for (const auto& v : c.remove_from) {
      if (!b.step()) return Run::killed;
      if (w.down.count(v)) {
        failed = true;
      } else {
        w.disk[v].erase(c.key);
      }
    }
  }
  if (failed) return Run::stopped;
  if (!b.step()) return Run::killed;
  w.journal.reset();
  return Run::done;
}

// One rebalance run over the index in pages of page_size keys.
Run run_rebalance(World& w, const std::vector<std::string>& volumes, std::size_t replicas,
                  std::size_t page_size, Budget& b) {
  if (const Run r = finish_journal(w, b); r != Run::done) return r;
  std::optional<std::string> after_key;
  for (;;) {
    std::vector<Entry> page;
    for (auto it = after_key ? w.index.upper_bound(*after_key) : w.index.begin();
         it != w.index.end() && page.size() < page_size; ++it) {
      page.push_back({it->first, it->second});
    }
    if (page.empty()) return Run::done;
    after_key = page.back().key;

    const auto moves = mkv::plan_rebalance(page, volumes, replicas);
    REQUIRE(moves.has_value());
    if (moves->empty()) continue;
    if (!b.step()) return Run::killed;
    w.journal = mkv::encode_journal(mkv::journal_entries(*moves));

    std::vector<const mkv::Move*> copied;
    for (const auto& m : *moves) {
      bool all = true;
      for (const auto& target : m.copy_to) {
        if (!b.step()) return Run::killed;
        bool readable = false;
        for (const auto& s : m.sources) {
          if (!w.down.count(s) && w.disk[s].count(m.key)) readable = true;
        }
        if (!readable || w.down.count(target)) {
          all = false;
          continue;
        }
        w.disk[target].insert(m.key);
      }
      if (all) copied.push_back(&m);
    }
    if (!b.step()) return Run::killed;
    for (const auto* m : copied) w.index[m->key] = m->after;

    if (const Run r = finish_journal(w, b); r != Run::done) return r;
  }
}

const std::vector<std::string> old_volumes = {"http://v1", "http://v2", "http://v3"};
// v1 is being retired (still reachable), v4 is new.
const std::vector<std::string> new_volumes = {"http://v2", "http://v3", "http://v4"};

// Returns a deployment on old_volumes with r=2: mostly placed keys, plus an under-replicated
// key, a key with an extra copy and one recorded in the wrong order.
World initial_world() {
  World w;
  for (int i = 0; i < 30; ++i) {
    const std::string key = "key-" + std::to_string(i);
    auto placement = mkv::volumes_for_key(key, old_volumes, 2);
    REQUIRE(placement.has_value());
    if (i == 3) placement->pop_back();
    if (i == 4) std::swap((*placement)[0], (*placement)[1]);
    if (i == 5) {
      for (const auto& v : old_volumes) {
        if (std::find(placement->begin(), placement->end(), v) == placement->end()) {
          placement->push_back(v);
        }
      }
    }
    for (const auto& v : *placement) w.disk[v].insert(key);
    w.index[key] = Record{*placement, static_cast<std::uint64_t>(i)};
  }
  return w;
}

// Checks what must hold at every moment: each indexed volume holds a copy.
void check_nothing_lost(const World& w) {
  CHECK(w.index.size() == 30);
  for (const auto& [key, record] : w.index) {
    CAPTURE(key);
    CHECK_FALSE(record.volumes.empty());
    for (const auto& v : record.volumes) {
      const auto it = w.disk.find(v);
      CHECK((it != w.disk.end() && it->second.count(key) == 1));
    }
  }
}

// Checks the end state: every key indexed on its placement, and copies exactly there.
void check_finished(const World& w) {
  check_nothing_lost(w);
  CHECK_FALSE(w.journal.has_value());
  std::map<std::string, std::set<std::string>> want;
  for (const auto& [key, record] : w.index) {
    const auto placement = mkv::volumes_for_key(key, new_volumes, 2);
    REQUIRE(placement.has_value());
    CHECK(record.volumes == *placement);
    for (const auto& v : *placement) want[v].insert(key);
  }
  for (const auto& [volume, keys] : w.disk) {
    CAPTURE(volume);
    CHECK(keys == want[volume]);
  }
}

std::size_t steps_of_a_full_run() {
  World w = initial_world();
  Budget b{1'000'000};
  REQUIRE(run_rebalance(w, new_volumes, 2, 7, b) == Run::done);
  check_finished(w);
  return 1'000'000 - b.left;
}

}  // namespace

TEST_CASE("an uninterrupted run places every key and leaves no extra copy") {
  CHECK(steps_of_a_full_run() > 30);
}

TEST_CASE("a run killed after any step is finished by the next run") {
  const std::size_t total = steps_of_a_full_run();
  for (std::size_t kill_at = 0; kill_at < total; ++kill_at) {
    CAPTURE(kill_at);
    World w = initial_world();
    Budget first{kill_at};
    CHECK(run_rebalance(w, new_volumes, 2, 7, first) == Run::killed);
    check_nothing_lost(w);
    Budget second{1'000'000};
    CHECK(run_rebalance(w, new_volumes, 2, 7, second) == Run::done);
    check_finished(w);
  }
}

TEST_CASE("a run killed twice, the second time while recovering, is still finished") {
  const std::size_t total = steps_of_a_full_run();
  for (std::size_t kill_at = 0; kill_at < total; kill_at += 3) {
    for (std::size_t second_kill = 0; second_kill < 12; ++second_kill) {
      CAPTURE(kill_at);
      CAPTURE(second_kill);
      World w = initial_world();
      Budget first{kill_at};
      CHECK(run_rebalance(w, new_volumes, 2, 7, first) == Run::killed);
      Budget second{second_kill};
      (void)run_rebalance(w, new_volumes, 2, 7, second);
      check_nothing_lost(w);
      Budget third{1'000'000};
      CHECK(run_rebalance(w, new_volumes, 2, 7, third) == Run::done);
      check_finished(w);
    }
  }
}

TEST_CASE("a target volume that is down stops the run, which finishes once it is back") {
  World w = initial_world();
  w.down.insert("http://v4");
  Budget first{1'000'000};
  CHECK(run_rebalance(w, new_volumes, 2, 7, first) == Run::stopped);
  check_nothing_lost(w);
  CHECK(w.journal.has_value());
  CHECK(w.disk["http://v4"].empty());

  Budget again{1'000'000};  // still down: recovery cannot finish, nothing else happens
  CHECK(run_rebalance(w, new_volumes, 2, 7, again) == Run::stopped);
  check_nothing_lost(w);

  w.down.clear();
  Budget last{1'000'000};
  CHECK(run_rebalance(w, new_volumes, 2, 7, last) == Run::done);
  check_finished(w);
}
