// Thin handles over the sqlite3 C API for the SQLite backend: a connection and a prepared
// statement that close themselves, one use of a statement that resets it, and helpers that each
// turn one call's return code into a Result.
#pragma once

#include "mkv/error.h"

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace mkv::sqlite {

struct CloseConnection {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};

// A database connection; closes when destroyed.
using Connection = std::unique_ptr<sqlite3, CloseConnection>;
// A prepared statement; finalized when destroyed.
using Statement = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

// One use of a prepared statement: resets it and clears its bindings when the use ends, so
// the statement is ready for the next caller whatever happened.
class StatementUse {
 public:
  explicit StatementUse(const Statement& statement) noexcept : stmt_(statement.get()) {}
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  ~StatementUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  sqlite3_stmt* get() const noexcept { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

// Returns the database error carrying the connection's last error message.
inline Error database_error(sqlite3* db) { return Error::database(sqlite3_errmsg(db)); }

// Runs SQL that returns no rows (or rows nobody needs).
inline Result<void> exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return database_error(db);
  return {};
}

// Returns the first column of the first row SQL returns, as text ("" when there is no row).
inline Result<std::string> query_text(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) return database_error(db);
  const Statement stmt(raw);
  const int rc = sqlite3_step(raw);
  if (rc == SQLITE_DONE) return std::string();
  if (rc != SQLITE_ROW) return database_error(db);
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
  return std::string(text ? text : "");
}

// Returns the statement for sql, prepared to be kept and run many times.
inline Result<Statement> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
    return database_error(db);
  }
  return Statement(raw);
}

// Binds text to parameter index without copying; text must outlive the statement's use.
inline int bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  // An empty string_view may have a null data(), which SQLite would bind as NULL.
  const char* data = text.empty() ? "" : text.data();
  return sqlite3_bind_text64(stmt, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

// Returns column index of the current row as a byte string.
inline std::string column_string(sqlite3_stmt* stmt, int index) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, index));
  const int bytes = sqlite3_column_bytes(stmt, index);
  return text ? std::string(text, static_cast<std::size_t>(bytes)) : std::string();
}

// Returns a connection to the database file at path, opened with flags.
//
// Through the "unix-excl" VFS: the first connection takes one exclusive POSIX lock for the
// whole process, and the WAL index lives in process memory rather than in a -shm file, so the
// connections of this process coordinate in memory and a read transaction makes no fcntl()
// call. With the default VFS every read took and dropped shared locks (~2 fcntl per request)
// and contended for the -shm mutex. Other processes cannot open the file meanwhile; the owner
// lock (SqliteIndex::claim) keeps other mkv commands out anyway.
inline Result<Connection> open_connection(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, "unix-excl");
  Connection db(raw);  // closes raw even when opening failed
  if (rc != SQLITE_OK) return Error::database(raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

}  // namespace mkv::sqlite
