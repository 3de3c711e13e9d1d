// Index conformance: put, get, overwrite, delete, batch order and atomicity, reopening, and
// failures reported as database errors.
#include "index_under_test.h"

#include <fstream>
#include <limits>

using mkv::Record;
using mkv::Write;

TEST_CASE("an empty index has no keys") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  CHECK_FALSE(get_ok(index, "missing").has_value());
  CHECK(list_ok(index, "", "", 10).empty());
  CHECK(scan_ok(index, "", 10).empty());
}

TEST_CASE("put, get, overwrite and delete one key") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());

  apply_ok(index, {put("a/b", record(10, {"http://v1:80", "http://v2:80"}))});
  CHECK(get_ok(index, "a/b") == record(10, {"http://v1:80", "http://v2:80"}));
  CHECK_FALSE(get_ok(index, "a").has_value());
  CHECK_FALSE(get_ok(index, "a/b/c").has_value());

  apply_ok(index, {put("a/b", record(20, {"http://v3:80"}))});
  CHECK(get_ok(index, "a/b") == record(20, {"http://v3:80"}));
  CHECK(list_ok(index, "", "", 10) == std::vector<std::string>{"a/b"});

  apply_ok(index, {erase("a/b")});
  CHECK_FALSE(get_ok(index, "a/b").has_value());
  CHECK(list_ok(index, "", "", 10).empty());

  // Deleting a key that is not there is not an error.
  apply_ok(index, {erase("a/b")});
  apply_ok(index, {erase("never-written")});
}

TEST_CASE("records round-trip exactly") {
  const Record cases[] = {
      record(0, {"http://v1:80"}),
      record(1, {"http://v1:80", "http://v2:80", "http://v3:80"}),
      record(std::uint64_t{1} << 32),
      record(std::numeric_limits<std::int64_t>::max()),
      record(std::numeric_limits<std::uint64_t>::max()),
      record(7, {}),
      record(8, {"http://host:1/with \"quotes\" and \\ backslash",
                 "http://h\xc3\xa9:2/\xe2\x82\xac"}),
  };
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  std::vector<Write> batch;
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    batch.push_back(put(std::to_string(i), cases[i]));
  }
  apply_ok(index, batch);
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    CAPTURE(i);
    CHECK(get_ok(index, std::to_string(i)) == cases[i]);
  }
  const auto entries = scan_ok(index, "", 100);
  REQUIRE(entries.size() == std::size(cases));
  for (std::size_t i = 0; i < std::size(cases); ++i) CHECK(entries[i].record == cases[i]);
}

TEST_CASE("writes in one batch apply in order") {
  struct Case {
    const char* name;
    std::vector<Write> batch;
    std::optional<Record> expected;  // the record of "k" afterwards
  };
  const Case cases[] = {
      {"put twice: the last wins", {put("k", record(1)), put("k", record(2))}, record(2)},
      {"put then delete", {put("k", record(1)), erase("k")}, std::nullopt},
      {"delete then put", {erase("k"), put("k", record(3))}, record(3)},
      {"put, delete, put", {put("k", record(1)), erase("k"), put("k", record(4))}, record(4)},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    ScratchDir dir;
    auto index = open_index(dir.index_path());
    apply_ok(index, {put("k", record(99)), put("other", record(5))});
    apply_ok(index, c.batch);
    CHECK(get_ok(index, "k") == c.expected);
    CHECK(get_ok(index, "other") == record(5));
  }
}

TEST_CASE("an empty batch changes nothing") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  apply_ok(index, {put("k", record(1))});
  apply_ok(index, {});
  CHECK(get_ok(index, "k") == record(1));
}

TEST_CASE("a batch that fails part-way applies nothing") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  apply_ok(index,
           {put("keep", record(1)), put("doomed-delete", record(2)), put("over", record(3))});

  // The empty key is refused by every backend, after earlier writes of the batch ran.
  const std::vector<Write> batch = {
      put("new-1", record(10)), erase("doomed-delete"), put("over", record(30)),
      put("", record(0)),       put("new-2", record(20)),
  };
  const auto applied = index.apply(batch);
  REQUIRE_FALSE(applied.has_value());
  CHECK(applied.error().code == mkv::errc::database);
  CHECK_FALSE(applied.error().detail.empty());

  CHECK_FALSE(get_ok(index, "new-1").has_value());
  CHECK_FALSE(get_ok(index, "new-2").has_value());
  CHECK(get_ok(index, "doomed-delete") == record(2));
  CHECK(get_ok(index, "over") == record(3));
  CHECK(list_ok(index, "", "", 10) == std::vector<std::string>{"doomed-delete", "keep", "over"});

  // The index is still usable afterwards.
  apply_ok(index, {put("new-1", record(11))});
  CHECK(get_ok(index, "new-1") == record(11));
}

TEST_CASE("reopening an index keeps every write") {
  ScratchDir dir;
  std::vector<Write> batch;
  for (int i = 0; i < 500; ++i) batch.push_back(put("dir/" + std::to_string(i), record(i)));
  {
    auto index = open_index(dir.index_path());
    apply_ok(index, batch);
    apply_ok(index, {erase("dir/7"), put("dir/8", record(800, {"http://v9:80"}))});
  }
  {
    auto index = open_index(dir.index_path());
    CHECK(list_ok(index, "dir/", "", 1000).size() == 499);
    CHECK_FALSE(get_ok(index, "dir/7").has_value());
    CHECK(get_ok(index, "dir/8") == record(800, {"http://v9:80"}));
    CHECK(get_ok(index, "dir/499") == record(499));
    apply_ok(index, {put("after-reopen", record(1))});
  }
  auto index = open_index(dir.index_path());
  CHECK(get_ok(index, "after-reopen") == record(1));
  CHECK(scan_all(index).size() == 500);
}

TEST_CASE("moving an index keeps it working") {
  ScratchDir dir;
  auto first = open_index(dir.index_path());
  apply_ok(first, {put("k", record(1))});
  IndexUnderTest moved(std::move(first));
  CHECK(get_ok(moved, "k") == record(1));
  apply_ok(moved, {put("j", record(2))});
  CHECK(list_ok(moved, "", "", 10) == std::vector<std::string>{"j", "k"});
}

TEST_CASE("a corrupt volumes value is a database error, not a crash") {
  ScratchDir dir;
  {
    auto index = open_index(dir.index_path());
    apply_ok(index, {put("a", record(1)), put("c", record(3))});
  }
  write_corrupt_volumes(dir.index_path(), "b/bad");
  auto index = open_index(dir.index_path());

  const auto got = index.get("b/bad");
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error() == mkv::Error::database("corrupt volumes for key b/bad"));

  const auto scanned = index.scan("", 10);
  REQUIRE_FALSE(scanned.has_value());
  CHECK(scanned.error() == mkv::Error::database("corrupt volumes for key b/bad"));

  // Listing only reads keys; the other records are intact; the bad row can be replaced.
  CHECK(list_ok(index, "", "", 10) == std::vector<std::string>{"a", "b/bad", "c"});
  CHECK(get_ok(index, "a") == record(1));
  CHECK(scan_ok(index, "c", 10).size() == 1);
  apply_ok(index, {put("b/bad", record(2))});
  CHECK(get_ok(index, "b/bad") == record(2));
}

TEST_CASE("opening something that is not an index is a database error") {
  ScratchDir dir;
  if constexpr (!keeps_files) {
    // No server listens on port 1.
    const auto index = IndexUnderTest::open("postgresql://mkv@127.0.0.1:1/none?connect_timeout=5");
    REQUIRE_FALSE(index.has_value());
    CHECK(index.error().code == mkv::errc::database);
    CHECK(index.error().detail.find("cannot connect") != std::string::npos);
    return;
  }
  SUBCASE("a file of garbage") {
    {
      std::ofstream out(dir.index_path(), std::ios::binary);
      for (int i = 0; i < 64 * 1024; ++i) out << "this is not a database ";
    }
    const auto index = IndexUnderTest::open(dir.index_path());
    REQUIRE_FALSE(index.has_value());
    CHECK(index.error().code == mkv::errc::database);
    CHECK_FALSE(index.error().detail.empty());
  }
  SUBCASE("a path in a directory that does not exist") {
    const auto index = IndexUnderTest::open(dir.index_path() + "/missing/dir/index");
    REQUIRE_FALSE(index.has_value());
    CHECK(index.error().code == mkv::errc::database);
    CHECK_FALSE(index.error().detail.empty());
  }
}

TEST_CASE("a record's checksum and write time round-trip, and an unknown checksum stays unknown") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  mkv::Record known = record(3, {"http://v1:80", "http://v2:80"});
  known.md5 = mkv::md5_of("abc");
  known.modified = 1764496800;
  mkv::Record unknown = record(4);
  unknown.modified = 17;
  const std::string long_key = std::string(600, 'l') + "/checksum";
  apply_ok(index, {put("known", known), put("unknown", unknown), put(long_key, known)});
  CHECK(get_ok(index, "known") == known);
  CHECK(get_ok(index, "unknown") == unknown);
  CHECK(get_ok(index, long_key) == known);
  const auto entries = scan_all(index);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].record == known);  // "known" < "l..." < "unknown"
  CHECK(entries[2].record == unknown);
}

TEST_CASE("a record's meta round-trips in records, scans and intents, and conditions compare it") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  mkv::Record with_meta = record(3, {"http://v1:80"});
  with_meta.md5 = mkv::md5_of("abc");
  with_meta.meta = R"({"content-type":"text/plain","x-amz-meta-k":"caf\u00e9 \"q\""})";
  mkv::Record binary_meta = record(4);
  binary_meta.meta = std::string("\x00\x01\xff", 3);
  mkv::Record long_meta = record(5);
  long_meta.meta = std::string(4000, 'm');
  const std::string long_key = std::string(600, 'l') + "/meta";
  apply_ok(index, {put("a", with_meta), put("b", binary_meta), put(long_key, long_meta),
                   put("c", record(6))});
  CHECK(get_ok(index, "a") == with_meta);
  CHECK(get_ok(index, "b") == binary_meta);
  CHECK(get_ok(index, long_key) == long_meta);
  CHECK(get_ok(index, "c")->meta.empty());
  const auto entries = scan_all(index);
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].record == with_meta);
  CHECK(entries[3].record == long_meta);  // "a" < "b" < "c" < "l..."

  // A compare-and-set that expects the record without its meta does not hold.
  mkv::Record without = with_meta;
  without.meta.clear();
  mkv::Write cas = put("a", record(9));
  cas.expected = mkv::Expected::record(without);
  CHECK(index.apply(std::vector{cas}).value() == std::vector{mkv::Applied::condition_failed});
  cas.expected = mkv::Expected::record(with_meta);
  CHECK(index.apply(std::vector{cas}).value() == std::vector{mkv::Applied::written});

  // An overwrite's intent keeps the previous record's meta, to revert to.
  mkv::Write overwrite = put("b", record(10));
  overwrite.begin_intent = mkv::Intent{"token", "b", {"http://v1:80"}, binary_meta};
  apply_ok(index, {overwrite});
  const auto intents = index.intents().value();
  REQUIRE(intents.size() == 1);
  CHECK(intents.front().previous == binary_meta);
}
