// How much a topology change moves: over 10,000 keys, only the keys whose placement changed
// move, and about as many as rendezvous hashing predicts.
#include "mkv/rebalance_plan.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

using mkv::Entry;
using mkv::Move;

namespace {

constexpr std::size_t key_count = 10'000;

// Returns every key placed on its placement among volumes, as PUT would have indexed it.
std::vector<Entry> placed_index(const std::vector<std::string>& volumes, std::size_t replicas) {
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < key_count; ++i) {
    const std::string key = "user/" + std::to_string(i * 7919 % 100'003) + "/blob-" +
                            std::to_string(i);
    auto placement = mkv::volumes_for_key(key, volumes, replicas);
    REQUIRE(placement.has_value());
    entries.push_back({key, {std::move(*placement), 1000 + i % 10}});
  }
  return entries;
}

// Returns true if actual is within tolerance of expected; prints both when it is not.
bool near(double actual, double expected, double tolerance) {
  const bool ok = actual > expected - tolerance && actual < expected + tolerance;
  if (!ok) MESSAGE("got " << actual << ", expected " << expected << " +- " << tolerance);
  return ok;
}

struct Outcome {
  std::size_t keys_changed = 0;   // keys whose placement set differs between the topologies
  std::size_t copies_moved = 0;   // copies the plan makes
  std::size_t copies_total = 0;   // copies in the index before
  std::vector<Move> moves;
};

// Plans the change from `before` to `after` and checks that exactly the keys whose placement
// set changed move, each by the minimum number of copies.
Outcome check_change(const std::vector<std::string>& before, std::size_t r_before,
                     const std::vector<std::string>& after, std::size_t r_after) {
  const auto entries = placed_index(before, r_before);
  auto planned = mkv::plan_rebalance(entries, after, r_after);
  REQUIRE(planned.has_value());
  Outcome out;
  out.moves = std::move(*planned);
  std::map<std::string, const Move*> by_key;
  for (const auto& m : out.moves) by_key[m.key] = &m;

  for (const auto& e : entries) {
    out.copies_total += e.record.volumes.size();
    const auto target = mkv::volumes_for_key(e.key, after, r_after);
    REQUIRE(target.has_value());
    const std::set<std::string> old_set(e.record.volumes.begin(), e.record.volumes.end());
    const std::set<std::string> new_set(target->begin(), target->end());
    const auto found = by_key.find(e.key);
    if (old_set == new_set && e.record.volumes == *target) {
      CHECK(found == by_key.end());  // untouched
      continue;
    }
    REQUIRE(found != by_key.end());
    const Move& m = *found->second;
    if (old_set != new_set) out.keys_changed += 1;
    CHECK(m.after.volumes == *target);
    std::vector<std::string> want_copy, want_remove;
    for (const auto& v : *target) {
      if (!old_set.count(v)) want_copy.push_back(v);
    }
    for (const auto& v : e.record.volumes) {
      if (!new_set.count(v)) want_remove.push_back(v);
    }
    CHECK(m.copy_to == want_copy);
    CHECK(m.remove_from == want_remove);
    if (!m.copy_to.empty()) CHECK(new_set.count(m.sources.front()) == 1);  // a copy that stays
    out.copies_moved += m.copy_to.size();
  }
  return out;
}

}  // namespace

TEST_CASE("adding a 4th volume to 3 with r=2 moves one copy of about half the keys") {
  const std::vector<std::string> three = {"http://v1", "http://v2", "http://v3"};
  const std::vector<std::string> four = {"http://v1", "http://v2", "http://v3", "http://v4"};
  const auto out = check_change(three, 2, four, 2);
  // A key moves iff v4 ranks in its top 2 of 4: probability 2/4. Each such key trades exactly
  // one old copy for one on v4, so 1 copy in (N+1) = 1/4 of all copies moves.
  CHECK(out.keys_changed == out.moves.size());  // no order-only rewrites: old order is kept
  CHECK(near(double(out.keys_changed) / key_count, 0.5, 0.02));
  CHECK(near(double(out.copies_moved) / out.copies_total, 0.25, 0.01));
  for (const auto& m : out.moves) {
    CHECK(m.copy_to == std::vector<std::string>{"http://v4"});
    CHECK(m.remove_from.size() == 1);
  }
  const auto summary = mkv::tally_plan({}, key_count, out.moves);
  CHECK(summary.keys_moving == out.moves.size());
  CHECK(summary.copies == out.copies_moved);
  CHECK(summary.deletes == out.copies_moved);
  CHECK(summary.volumes.at("http://v4").copies_in == out.copies_moved);
  for (const auto& v : three) {  // the copies given up are spread evenly over the old volumes
    CHECK(near(double(summary.volumes.at(v).deletes) / out.copies_moved, 1.0 / 3, 0.03));
  }
}

TEST_CASE("removing one of 4 volumes with r=2 moves only the copies it held") {
  const std::vector<std::string> four = {"http://v1", "http://v2", "http://v3", "http://v4"};
  const std::vector<std::string> three = {"http://v1", "http://v2", "http://v4"};
  const auto out = check_change(four, 2, three, 2);
  // v3 was in a key's top 2 of 4 with probability 1/2; each such key gets one new copy.
  CHECK(out.keys_changed == out.moves.size());
  CHECK(near(double(out.keys_changed) / key_count, 0.5, 0.02));
  CHECK(near(double(out.copies_moved) / out.copies_total, 0.25, 0.01));
  for (const auto& m : out.moves) {
    CHECK(m.remove_from == std::vector<std::string>{"http://v3"});
    CHECK(m.copy_to.size() == 1);
    CHECK(m.sources.back() == "http://v3");  // the leaving volume is read only as a last resort
  }
}

TEST_CASE("adding a 5th volume to 4 with r=3 moves one copy of about 3/5 of the keys") {
  const std::vector<std::string> four = {"http://v1", "http://v2", "http://v3", "http://v4"};
  auto five = four;
  five.push_back("http://v5");
  const auto out = check_change(four, 3, five, 3);
  CHECK(near(double(out.keys_changed) / key_count, 0.6, 0.02));
  CHECK(near(double(out.copies_moved) / out.copies_total, 0.2, 0.01));
}

TEST_CASE("raising r from 2 to 3 adds one copy to every key and deletes nothing") {
  const std::vector<std::string> four = {"http://v1", "http://v2", "http://v3", "http://v4"};
  const auto out = check_change(four, 2, four, 3);
  CHECK(out.moves.size() == key_count);
  CHECK(out.copies_moved == key_count);
  for (const auto& m : out.moves) CHECK(m.remove_from.empty());
}

TEST_CASE("a finished rebalance plans nothing on the next run") {
  const std::vector<std::string> three = {"http://v1", "http://v2", "http://v3"};
  const std::vector<std::string> four = {"http://v1", "http://v2", "http://v3", "http://v4"};
  auto entries = placed_index(three, 2);
  const auto moves = mkv::plan_rebalance(entries, four, 2);
  REQUIRE(moves.has_value());
  std::map<std::string, mkv::Record> after;
  for (const auto& m : *moves) after[m.key] = m.after;
  for (auto& e : entries) {
    if (after.count(e.key)) e.record = after[e.key];
  }
  const auto again = mkv::plan_rebalance(entries, four, 2);
  REQUIRE(again.has_value());
  CHECK(again->empty());
}
