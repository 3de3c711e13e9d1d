// What only the PostgreSQL backend has: its schemas and version, several servers' claims, key
// order by bytes whatever the database's collation, writes to one key serialized across
// connections (as from several servers), and the conformance suite's corrupt row, written
// with SQL.
#include "index_under_test.h"

#include <thread>

namespace {

// Returns the database name at the end of a test index's URI.
std::string database_of(const std::string& uri) { return uri.substr(uri.rfind('/') + 1); }

std::string sql(const ScratchDir& dir, std::string_view statement) {
  return mkv::test::shared_postgres().sql(dir.database(), statement);
}

}  // namespace

void write_corrupt_volumes(const std::string& path, const std::string& key) {
  mkv::test::shared_postgres().sql(
      database_of(path), "INSERT INTO mkv.blobs (key, volumes, size) VALUES (convert_to('" + key +
                             "', 'UTF8'), 'not json [', 1) ON CONFLICT (key) DO UPDATE SET"
                             " volumes = excluded.volumes, size = excluded.size");
}

TEST_CASE("postgres: a new index has its three schemas at version 2") {
  ScratchDir dir;
  { auto index = open_index(dir.index_path()); }
  CHECK(sql(dir, "SELECT version FROM mkv_control.schema") == "2");
  CHECK(sql(dir, "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace"
                 " WHERE nspname LIKE 'mkv%'") == "mkv,mkv_control");
  CHECK(sql(dir, "SELECT count(*) FROM mkv.counts") == "16");
}

TEST_CASE("postgres: an index of a newer schema version is refused, unchanged") {
  ScratchDir dir;
  { auto index = open_index(dir.index_path()); }
  sql(dir, "UPDATE mkv_control.schema SET version = 99");
  const auto index = IndexUnderTest::open(dir.index_path());
  REQUIRE_FALSE(index.has_value());
  CHECK(index.error().detail.find("schema version 99, newer than this mkv's (2)") !=
        std::string::npos);
  CHECK(sql(dir, "SELECT version FROM mkv_control.schema") == "99");
}

TEST_CASE("postgres: several processes opening an empty database at once create it once") {
  ScratchDir dir;
  std::vector<std::thread> openers;
  std::atomic<int> opened{0};
  for (int i = 0; i < 6; ++i) {
    openers.emplace_back([&] {
      if (IndexUnderTest::open(dir.index_path())) opened += 1;
    });
  }
  for (auto& t : openers) t.join();
  CHECK(opened == 6);
  CHECK(sql(dir, "SELECT count(*) FROM mkv_control.schema") == "1");
}

TEST_CASE("postgres: any number of serve claims at once; every other role waits for none") {
  ScratchDir dir;
  {
    auto first = IndexUnderTest::claim(dir.index_path(), "serve");
    REQUIRE_MESSAGE(first.has_value(), first.error().detail);
    auto second = IndexUnderTest::claim(dir.index_path(), "serve");
    REQUIRE_MESSAGE(second.has_value(), second.error().detail);
    const auto rebuild = IndexUnderTest::claim(dir.index_path(), "rebuild");
    REQUIRE_FALSE(rebuild.has_value());
    CHECK(rebuild.error().detail.find("pid ") != std::string::npos);
    CHECK(rebuild.error().detail.find("stop every mkv serve using it first") != std::string::npos);
  }
  auto rebuild = IndexUnderTest::claim(dir.index_path(), "rebuild");
  REQUIRE_MESSAGE(rebuild.has_value(), rebuild.error().detail);
  const auto serve = IndexUnderTest::claim(dir.index_path(), "serve");
  REQUIRE_FALSE(serve.has_value());
  CHECK(serve.error().detail.find(", rebuild)") != std::string::npos);
}

TEST_CASE("postgres: keys order by bytes, not by the database's collation") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  // In en_US-like collations "a-b" sorts after "a/b" and case is folded; byte order is strict.
  apply_ok(index, {put("B", record(1)), put("a", record(1)), put("a-b", record(1)),
                   put("a/b", record(1)), put(std::string("\xc3\xa9"), record(1)),
                   put("\x7f", record(1))});
  CHECK(list_ok(index, "", "", 10) ==
        std::vector<std::string>{"B", "a", "a-b", "a/b", "\x7f", std::string("\xc3\xa9")});
}

TEST_CASE("postgres: create-only writes of one key from many connections: exactly one wins") {
  ScratchDir dir;
  { auto index = open_index(dir.index_path()); }
  for (int round = 0; round < 20; ++round) {
    const std::string key = "race/" + std::to_string(round);
    std::atomic<int> written{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        auto index = IndexUnderTest::open(dir.index_path());  // its own sessions, as a server's
        if (!index) return;
        mkv::Write write = put(key, record(static_cast<std::uint64_t>(w + 1)));
        write.expected = mkv::Expected::absent();
        auto applied = index->apply(std::span(&write, 1));
        if (applied && applied->front() == mkv::Applied::written) written += 1;
      });
    }
    for (auto& t : writers) t.join();
    CHECK(written == 1);
  }
  auto index = open_index(dir.index_path());
  auto count = index.count();
  REQUIRE(count.has_value());
  CHECK(*count == 20);
}

TEST_CASE("postgres: the count of keys is kept by writers using different rows") {
  ScratchDir dir;
  {
    auto a = open_index(dir.index_path());
    auto b = open_index(dir.index_path());
    apply_ok(a, {put("x", record(1)), put("y", record(1))});
    apply_ok(b, {put("z", record(1)), erase("x"), erase("never")});
  }
  auto index = open_index(dir.index_path());
  CHECK(index.count().value() == 2);
  CHECK(sql(dir, "SELECT sum(value) FROM mkv.counts") == "2");
}

TEST_CASE("postgres: a connection string to nowhere is a clear error, naming no password") {
  const auto index =
      IndexUnderTest::open("postgresql://mkv:secret@127.0.0.1:1/none?connect_timeout=5");
  REQUIRE_FALSE(index.has_value());
  CHECK(index.error().detail.find("cannot connect to PostgreSQL") != std::string::npos);
  const auto owner = IndexUnderTest::claim("postgresql://mkv:secret@127.0.0.1:1/none", "serve");
  REQUIRE_FALSE(owner.has_value());
}
