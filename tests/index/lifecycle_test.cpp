// Index conformance: the life of the store behind the index. One owner at a time; rebuild's
// replacement is written beside the index and put in place in one step, or discarded; job
// journals are kept durably by the index.
#include "index_under_test.h"

#include <string>
#include <vector>

TEST_CASE("exists tells whether an index is there") {
  ScratchDir dir;
  CHECK_FALSE(IndexUnderTest::exists(dir.index_path()));
  { auto index = open_index(dir.index_path()); }
  CHECK(IndexUnderTest::exists(dir.index_path()));
}

TEST_CASE("one owner at a time, named to the others") {
  ScratchDir dir;
  {
    auto first = IndexUnderTest::claim(dir.index_path(), "serve");
    REQUIRE_MESSAGE(first.has_value(), first.error().detail);
    const auto second = IndexUnderTest::claim(dir.index_path(), "rebuild");
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code == mkv::errc::database);
    CHECK(second.error().detail.find("is in use by another mkv process (pid ") !=
          std::string::npos);
    CHECK(second.error().detail.find(", serve)") != std::string::npos);
  }
  // Released with its handle.
  const auto again = IndexUnderTest::claim(dir.index_path(), "rebalance");
  CHECK_MESSAGE(again.has_value(), again.error().detail);
}

TEST_CASE("a replacement is empty, and takes the index's place whole") {
  ScratchDir dir;
  {
    auto old = open_index(dir.index_path());
    apply_ok(old, {put("old/1", record(1)), put("old/2", record(2))});
  }
  {
    auto fresh = IndexUnderTest::open_replacement(dir.index_path());
    REQUIRE_MESSAGE(fresh.has_value(), fresh.error().detail);
    CHECK(scan_ok(*fresh, "", 10).empty());
    apply_ok(*fresh, {put("new/1", record(10))});
    const auto replaced = IndexUnderTest::replace(dir.index_path(), std::move(*fresh));
    REQUIRE_MESSAGE(replaced.has_value(), replaced.error().detail);
  }
  auto index = open_index(dir.index_path());
  CHECK(list_ok(index, "", "", 10) == std::vector<std::string>{"new/1"});
  CHECK(get_ok(index, "new/1") == record(10));
}

TEST_CASE("a replacement can be made where there is no index yet") {
  ScratchDir dir;
  {
    auto fresh = IndexUnderTest::open_replacement(dir.index_path());
    REQUIRE(fresh.has_value());
    apply_ok(*fresh, {put("k", record(1))});
    REQUIRE(IndexUnderTest::replace(dir.index_path(), std::move(*fresh)).has_value());
  }
  auto index = open_index(dir.index_path());
  CHECK(get_ok(index, "k") == record(1));
}

TEST_CASE("an unfinished replacement changes nothing and is cleared by the next one") {
  ScratchDir dir;
  {
    auto old = open_index(dir.index_path());
    apply_ok(old, {put("old", record(1))});
  }
  {
    auto abandoned = IndexUnderTest::open_replacement(dir.index_path());
    REQUIRE(abandoned.has_value());
    apply_ok(*abandoned, {put("half-done", record(2))});
  }  // closed without being put in place, as a killed rebuild leaves it
  {
    auto old = open_index(dir.index_path());
    CHECK(list_ok(old, "", "", 10) == std::vector<std::string>{"old"});
  }
  {
    auto next = IndexUnderTest::open_replacement(dir.index_path());
    REQUIRE(next.has_value());
    CHECK(scan_ok(*next, "", 10).empty());  // nothing of the abandoned one
  }
  REQUIRE(IndexUnderTest::discard_replacement(dir.index_path()).has_value());
  REQUIRE(IndexUnderTest::discard_replacement(dir.index_path()).has_value());  // nothing left
  auto old = open_index(dir.index_path());
  CHECK(list_ok(old, "", "", 10) == std::vector<std::string>{"old"});
}

TEST_CASE("journals are kept by name until removed, across reopening") {
  ScratchDir dir;
  {
    auto index = open_index(dir.index_path());
    const auto none = index.read_journal("rebalance");
    REQUIRE(none.has_value());
    CHECK_FALSE(none->has_value());
    REQUIRE(index.write_journal("rebalance", "line 1\nline 2\n").has_value());
    REQUIRE(index.write_journal("other", "x").has_value());
    REQUIRE(index.write_journal("rebalance", "line 3\n").has_value());  // replaces the text
  }
  auto index = open_index(dir.index_path());
  CHECK(index.read_journal("rebalance").value() == std::optional<std::string>("line 3\n"));
  CHECK(index.read_journal("other").value() == std::optional<std::string>("x"));
  REQUIRE(index.remove_journal("rebalance").has_value());
  REQUIRE(index.remove_journal("rebalance").has_value());  // not having one is fine
  CHECK_FALSE(index.read_journal("rebalance").value().has_value());
  CHECK(index.read_journal("other").value() == std::optional<std::string>("x"));
}
