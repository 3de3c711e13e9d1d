// What only the SQLite backend has: WAL mode, the schema version, and the conformance
// suite's corrupt row, written straight through the sqlite3 C API.
#include "index_under_test.h"

#include <sqlite3.h>

namespace {

// Runs sql on the database at path (the index must be closed) and returns the first column
// of its first row as text, or "" when it returns no row.
std::string run_sql(const std::string& path, const std::string& sql,
                    std::string_view bind_key = {}) {
  sqlite3* db = nullptr;
  const int opened = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  REQUIRE_MESSAGE(opened == SQLITE_OK, std::string(sqlite3_errstr(opened)));
  sqlite3_stmt* stmt = nullptr;
  const int prepared = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  REQUIRE_MESSAGE(prepared == SQLITE_OK, std::string(sqlite3_errmsg(db)));
  if (!bind_key.empty()) {
    sqlite3_bind_text(stmt, 1, bind_key.data(), static_cast<int>(bind_key.size()),
                      SQLITE_TRANSIENT);
  }
  const int stepped = sqlite3_step(stmt);
  CHECK_MESSAGE((stepped == SQLITE_ROW || stepped == SQLITE_DONE), std::string(sqlite3_errmsg(db)));
  std::string first;
  if (stepped == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
    first = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return first;
}

}  // namespace

void write_corrupt_volumes(const std::string& path, const std::string& key) {
  run_sql(path, "INSERT OR REPLACE INTO blobs (key, volumes, size) VALUES (?1, 'not json [', 1)",
          key);
}

TEST_CASE("sqlite: a new index is in WAL mode at schema version 5") {
  ScratchDir dir;
  { auto index = open_index(dir.index_path()); }
  CHECK(run_sql(dir.index_path(), "PRAGMA journal_mode") == "wal");
  CHECK(run_sql(dir.index_path(), "PRAGMA user_version") == "5");
  CHECK(run_sql(dir.index_path(), "SELECT sql FROM sqlite_schema WHERE name = 'blobs'")
            .find("WITHOUT ROWID") != std::string::npos);
}

TEST_CASE("sqlite: a table made before schema versions were recorded is adopted") {
  ScratchDir dir;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.index_path().c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db,
                       "CREATE TABLE blobs (key TEXT PRIMARY KEY NOT NULL, volumes TEXT NOT NULL,"
                       " size INTEGER NOT NULL) WITHOUT ROWID;"
                       "INSERT INTO blobs VALUES ('old', '[\"http://v1:80\"]', 5);",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  auto index = open_index(dir.index_path());
  CHECK(get_ok(index, "old") == record(5));
}

TEST_CASE("sqlite: an index of a newer schema version is refused") {
  ScratchDir dir;
  { auto index = open_index(dir.index_path()); }
  run_sql(dir.index_path(), "PRAGMA user_version = 6");
  const auto index = IndexUnderTest::open(dir.index_path());
  REQUIRE_FALSE(index.has_value());
  CHECK(index.error() ==
        mkv::Error::database("index schema version 6 is not supported (this build uses 5)"));
}
