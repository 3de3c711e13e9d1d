// Index conformance: repair marks. A write can mark its key for repair or clear the mark, in
// the same transaction and under the same condition as its record; the marked keys are listed
// in byte order, paged from a start key, long keys included, and survive reopening.
#include "index_under_test.h"

#include <algorithm>
#include <string>
#include <vector>

using mkv::Expected;
using mkv::RepairMark;
using mkv::Write;

namespace {

// Returns key's write of record r that sets or clears its repair mark.
Write marking(std::string key, std::optional<mkv::Record> r, RepairMark mark,
              Expected expected = Expected::anything()) {
  Write w{std::move(key), std::move(r), std::move(expected)};
  w.repair = mark;
  return w;
}

// Returns every marked key, read a page of page_size at a time.
std::vector<std::string> all_marked(IndexUnderTest& index, std::size_t page_size = 1000) {
  std::vector<std::string> keys;
  std::string start;
  for (;;) {
    auto page = index.repairs(start, page_size);
    REQUIRE_MESSAGE(page.has_value(), page.error().detail);
    for (auto& k : *page) keys.push_back(std::move(k));
    if (page->size() < page_size) return keys;
    start = keys.back() + std::string(1, '\0');  // the first key after the last one listed
  }
}

}  // namespace

TEST_CASE("a write marks its key for repair and a later one clears the mark") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  CHECK(all_marked(index).empty());
  apply_ok(index, {marking("b", record(1), RepairMark::set),
                   marking("a", record(2), RepairMark::set), put("c", record(3))});
  CHECK(all_marked(index) == std::vector<std::string>{"a", "b"});

  SUBCASE("marking twice keeps one mark") {
    apply_ok(index, {marking("a", record(4), RepairMark::set)});
    CHECK(all_marked(index) == std::vector<std::string>{"a", "b"});
  }
  SUBCASE("a write that keeps the mark leaves it") {
    apply_ok(index, {put("a", record(5))});
    CHECK(all_marked(index) == std::vector<std::string>{"a", "b"});
  }
  SUBCASE("clearing removes it, also with the key deleted in the same write") {
    apply_ok(index, {marking("a", record(2), RepairMark::clear),
                     marking("b", std::nullopt, RepairMark::clear)});
    CHECK(all_marked(index).empty());
    CHECK(get_ok(index, "a") == record(2));
    CHECK_FALSE(get_ok(index, "b").has_value());
  }
  SUBCASE("a mark outlives its key until cleared") {
    apply_ok(index, {erase("a")});
    CHECK(all_marked(index) == std::vector<std::string>{"a", "b"});
    apply_ok(index, {marking("a", std::nullopt, RepairMark::clear, Expected::absent())});
    CHECK(all_marked(index) == std::vector<std::string>{"b"});
  }
  SUBCASE("clearing a key that has no mark changes nothing") {
    apply_ok(index, {marking("c", record(3), RepairMark::clear),
                     marking("zz", std::nullopt, RepairMark::clear)});
    CHECK(all_marked(index) == std::vector<std::string>{"a", "b"});
  }
}

TEST_CASE("a write whose condition fails changes no mark") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  apply_ok(index, {marking("a", record(1), RepairMark::set)});
  auto applied = index.apply(std::vector<Write>{
      marking("a", record(2), RepairMark::clear, Expected::record(record(9))),
      marking("b", record(2), RepairMark::set, Expected::record(record(9)))});
  REQUIRE(applied.has_value());
  CHECK(*applied == std::vector<mkv::Applied>{mkv::Applied::condition_failed,
                                              mkv::Applied::condition_failed});
  CHECK(all_marked(index) == std::vector<std::string>{"a"});
}

TEST_CASE("marked keys are listed in byte order from a start key, long keys and all") {
  ScratchDir dir;
  const std::string long_prefix(700, 's');
  std::vector<std::string> keys = {"a", "a/b", "b", "\xc3\xbc", long_prefix + "/one",
                                   long_prefix + "/two", long_prefix, "z"};
  {
    auto index = open_index(dir.index_path());
    std::vector<Write> batch;
    for (const auto& k : keys) batch.push_back(marking(k, record(1), RepairMark::set));
    apply_ok(index, batch);
  }
  std::sort(keys.begin(), keys.end());
  auto index = open_index(dir.index_path());  // marks are durable
  CHECK(all_marked(index) == keys);
  CHECK(all_marked(index, 1) == keys);
  CHECK(all_marked(index, 3) == keys);
  auto from = index.repairs("b", 2);
  REQUIRE(from.has_value());
  CHECK(*from == std::vector<std::string>{"b", long_prefix});
  auto none = index.repairs("", 0);
  REQUIRE(none.has_value());
  CHECK(none->empty());

  apply_ok(index, {marking(long_prefix + "/one", record(1), RepairMark::clear)});
  keys.erase(std::find(keys.begin(), keys.end(), long_prefix + "/one"));
  CHECK(all_marked(index) == keys);
}

TEST_CASE("the count of keys follows every write, and survives reopening") {
  ScratchDir dir;
  const auto count_of = [](IndexUnderTest& index) {
    auto n = index.count();
    REQUIRE_MESSAGE(n.has_value(), n.error().detail);
    return *n;
  };
  {
    auto index = open_index(dir.index_path());
    CHECK(count_of(index) == 0);
    struct Step {
      const char* what;
      std::vector<Write> batch;
      std::uint64_t keys;
    };
    const std::string long_key = std::string(700, 'k') + "/x";
    const Step steps[] = {
        {"three created", {put("a", record(1)), put("b", record(2)), put(long_key, record(3))}, 3},
        {"replaced: no change", {put("a", record(9)), put(long_key, record(4))}, 3},
        {"deleted", {erase("b")}, 2},
        {"deleting an absent key", {erase("b"), erase("zz")}, 2},
        {"created and deleted in one batch", {put("c", record(1)), erase("c")}, 2},
        {"a failed condition changes nothing",
         {Write{"d", record(1), Expected::record(record(5))},
          Write{"a", std::nullopt, Expected::absent()}},
         2},
        {"created only if absent", {Write{"d", record(1), Expected::absent()}}, 3},
        {"the long key deleted", {erase(long_key)}, 2},
    };
    for (const auto& step : steps) {
      CAPTURE(step.what);
      apply_ok(index, step.batch);
      CHECK(count_of(index) == step.keys);
      CHECK(count_of(index) == scan_all(index).size());
    }
  }
  auto index = open_index(dir.index_path());
  CHECK(count_of(index) == 2);
}
