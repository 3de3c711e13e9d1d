// plan_rebalance: which keys move, where they are copied from and to, and what is deleted.
#include "mkv/rebalance_plan.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

using mkv::Entry;
using mkv::Move;
using mkv::Record;

namespace {

const std::vector<std::string> four = {"http://v1", "http://v2", "http://v3", "http://v4"};

// Returns the volumes of `four` in key's ranking order.
std::vector<std::string> ranked(std::string_view key) {
  std::vector<std::string> out;
  for (std::size_t i : mkv::rank_volumes(key, four)) out.push_back(four[i]);
  return out;
}

std::vector<Move> plan(const std::vector<Entry>& entries, std::size_t replicas) {
  auto moves = mkv::plan_rebalance(entries, four, replicas);
  REQUIRE(moves.has_value());
  return *moves;
}

}  // namespace

TEST_CASE("plan_rebalance leaves keys that are on their placement alone") {
  std::vector<Entry> entries;
  for (int i = 0; i < 200; ++i) {
    std::string key = "k";
    key += std::to_string(i);
    const auto placement = mkv::volumes_for_key(key, four, 2);
    REQUIRE(placement.has_value());
    entries.push_back({key, {*placement, 10}});
  }
  CHECK(plan(entries, 2).empty());
  CHECK(plan({}, 2).empty());
}

TEST_CASE("plan_move for each way a record can differ from its placement (r=2 of 4)") {
  const std::string key = "some/key";
  const auto r = ranked(key);
  const std::string gone = "http://gone";
  struct Case {
    std::string_view what;
    std::vector<std::string> recorded;
    bool moves;
    std::vector<std::string> sources;
    std::vector<std::string> copy_to;
    std::vector<std::string> remove_from;
  };
  const Case cases[] = {
      {"on its placement", {r[0], r[1]}, false, {}, {}, {}},
      {"placement in the wrong order: index only", {r[1], r[0]}, true, {r[0], r[1]}, {}, {}},
      {"second copy elsewhere", {r[0], r[2]}, true, {r[0], r[2]}, {r[1]}, {r[2]}},
      {"first copy elsewhere", {r[3], r[1]}, true, {r[1], r[3]}, {r[0]}, {r[3]}},
      {"both copies elsewhere", {r[2], r[3]}, true, {r[2], r[3]}, {r[0], r[1]}, {r[2], r[3]}},
      {"under-replicated on placement", {r[1]}, true, {r[1]}, {r[0]}, {}},
      {"under-replicated elsewhere", {r[3]}, true, {r[3]}, {r[0], r[1]}, {r[3]}},
      {"over-replicated", {r[0], r[1], r[2]}, true, {r[0], r[1], r[2]}, {}, {r[2]}},
      {"over-replicated, unordered", {r[3], r[1], r[0]}, true, {r[0], r[1], r[3]}, {}, {r[3]}},
      {"a copy on a removed volume", {gone, r[0]}, true, {r[0], gone}, {r[1]}, {gone}},
      {"only on a removed volume", {gone}, true, {gone}, {r[0], r[1]}, {gone}},
      {"a volume listed twice", {r[2], r[2]}, true, {r[2]}, {r[0], r[1]}, {r[2]}},
      {"no volumes at all", {}, false, {}, {}, {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const Entry entry{key, {c.recorded, 1234}};
    const auto m = mkv::plan_move(entry, four, 2);
    REQUIRE(m.has_value() == c.moves);
    if (!m) continue;
    CHECK(m->key == key);
    CHECK(m->before == entry.record);
    CHECK(m->after == Record{{r[0], r[1]}, 1234});
    CHECK(m->sources == c.sources);
    CHECK(m->copy_to == c.copy_to);
    CHECK(m->remove_from == c.remove_from);
    CHECK(mkv::index_only(*m) == (c.copy_to.empty() && c.remove_from.empty()));
  }
}

TEST_CASE("plan_move follows the replication factor") {
  const std::string key = "r";
  const auto r = ranked(key);
  const Entry entry{key, {{r[0], r[1]}, 5}};
  SUBCASE("raising it adds copies and deletes nothing") {
    const auto m = mkv::plan_move(entry, four, 3);
    REQUIRE(m.has_value());
    CHECK(m->copy_to == std::vector<std::string>{r[2]});
    CHECK(m->remove_from.empty());
  }
  SUBCASE("lowering it deletes the lowest-ranked copy") {
    const auto m = mkv::plan_move(entry, four, 1);
    REQUIRE(m.has_value());
    CHECK(m->after.volumes == std::vector<std::string>{r[0]});
    CHECK(m->copy_to.empty());
    CHECK(m->remove_from == std::vector<std::string>{r[1]});
  }
  SUBCASE("zero replicas never plans to delete every copy") {
    CHECK_FALSE(mkv::plan_move(entry, four, 0).has_value());
  }
}

TEST_CASE("plan_rebalance refuses a replication factor above the number of volumes") {
  const std::vector<Entry> entries = {{"a", {{"http://v1"}, 1}}};
  const auto moves = mkv::plan_rebalance(entries, four, 5);
  REQUIRE_FALSE(moves.has_value());
  CHECK(moves.error() == mkv::Error::not_enough_volumes(5, 4));
}

TEST_CASE("planning page by page gives the same moves as planning everything at once") {
  std::vector<Entry> entries;
  for (int i = 0; i < 100; ++i) {
    std::string key = "page/";
    key += std::to_string(i);
    const auto r = ranked(key);
    entries.push_back({key, {{r[i % 4], r[(i + 1) % 4]}, static_cast<std::uint64_t>(i)}});
  }
  const auto all = plan(entries, 2);
  std::vector<Move> paged;
  for (std::size_t begin = 0; begin < entries.size(); begin += 7) {
    const std::size_t end = std::min(entries.size(), begin + 7);
    const std::vector<Entry> page(entries.begin() + begin, entries.begin() + end);
    for (auto& m : plan(page, 2)) paged.push_back(std::move(m));
  }
  CHECK(paged == all);
  CHECK(all.size() == 75);  // the i % 4 == 0 rows are already placed
}
