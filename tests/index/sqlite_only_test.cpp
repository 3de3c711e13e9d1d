// The SQLite conformance build's corrupt row: written straight through the sqlite3 C API.
#include "index_under_test.h"

#include <sqlite3.h>

void write_corrupt_volumes(const std::string& path, const std::string& key) {
  sqlite3* db = nullptr;
  const int opened = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  REQUIRE_MESSAGE(opened == SQLITE_OK, sqlite3_errstr(opened));
  sqlite3_stmt* stmt = nullptr;
  const char* sql = "INSERT OR REPLACE INTO blobs (key, volumes, size) VALUES (?1, 'not json [', 1)";
  const int prepared = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  CHECK_MESSAGE(prepared == SQLITE_OK, sqlite3_errmsg(db));
  sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  CHECK_MESSAGE(sqlite3_step(stmt) == SQLITE_DONE, sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}
