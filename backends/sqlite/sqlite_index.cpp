// The SQLite index backend: thin RAII handles over the sqlite3 C API, one writer connection
// and a pool of reader connections, each keeping its prepared statements.
//
// Schema, version 1 (kept in PRAGMA user_version):
//
//   CREATE TABLE IF NOT EXISTS blobs (
//     key     TEXT PRIMARY KEY NOT NULL,  -- the key's bytes; BINARY collation: memcmp order
//     volumes TEXT NOT NULL,              -- JSON array of volume URLs (encode_volumes)
//     size    INTEGER NOT NULL            -- blob size in bytes
//   ) WITHOUT ROWID;
//   PRAGMA user_version = 1;
//
// Every connection runs in WAL mode; the writer uses synchronous=FULL, so a transaction is
// fsynced to the WAL before apply() returns and an acknowledged write survives power loss.
// Readers see the last committed state and never block the writer or each other.
#include "sqlite_index.h"

#include "mkv/list_query.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <mutex>
#include <utility>

namespace mkv {
namespace {

constexpr const char* schema_version = "1";
constexpr int busy_timeout_ms = 5000;

constexpr const char* create_table_sql =
    "CREATE TABLE IF NOT EXISTS blobs ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " volumes TEXT NOT NULL,"
    " size INTEGER NOT NULL"
    ") WITHOUT ROWID";

constexpr const char* get_sql = "SELECT volumes, size FROM blobs WHERE key = ?1";
constexpr const char* list_range_sql =
    "SELECT key FROM blobs WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3";
constexpr const char* list_from_sql =
    "SELECT key FROM blobs WHERE key >= ?1 ORDER BY key LIMIT ?2";
constexpr const char* scan_sql =
    "SELECT key, volumes, size FROM blobs WHERE key >= ?1 ORDER BY key LIMIT ?2";
constexpr const char* put_sql =
    "INSERT INTO blobs (key, volumes, size) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (key) DO UPDATE SET volumes = excluded.volumes, size = excluded.size";
constexpr const char* erase_sql = "DELETE FROM blobs WHERE key = ?1";

// A database connection; closes when destroyed.
class Connection {
 public:
  Connection() = default;
  explicit Connection(sqlite3* db) noexcept : db_(db) {}
  Connection(Connection&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Connection& operator=(Connection&& other) noexcept {
    std::swap(db_, other.db_);
    return *this;
  }
  ~Connection() { sqlite3_close_v2(db_); }  // a no-op for nullptr

  sqlite3* get() const noexcept { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// A prepared statement; finalized when destroyed.
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) noexcept : stmt_(stmt) {}
  Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&& other) noexcept {
    std::swap(stmt_, other.stmt_);
    return *this;
  }
  ~Statement() { sqlite3_finalize(stmt_); }  // a no-op for nullptr

  sqlite3_stmt* get() const noexcept { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

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
Error database_error(sqlite3* db) { return Error::database(sqlite3_errmsg(db)); }

// Runs SQL that returns no rows (or rows nobody needs).
Result<void> exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return database_error(db);
  return {};
}

// Returns the first column of the first row SQL returns, as text ("" when there is no row).
Result<std::string> query_text(sqlite3* db, const char* sql) {
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
Result<Statement> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
    return database_error(db);
  }
  return Statement(raw);
}

// Binds text to parameter index without copying; text must outlive the statement's use.
int bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  // An empty string_view may have a null data(), which SQLite would bind as NULL.
  const char* data = text.empty() ? "" : text.data();
  return sqlite3_bind_text64(stmt, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

// Binds a row limit; SQLite takes a signed 64-bit LIMIT.
int bind_limit(sqlite3_stmt* stmt, int index, std::size_t limit) {
  constexpr auto max = static_cast<std::size_t>(std::numeric_limits<sqlite3_int64>::max());
  return sqlite3_bind_int64(stmt, index, static_cast<sqlite3_int64>(std::min(limit, max)));
}

// Returns column index of the current row as a byte string.
std::string column_string(sqlite3_stmt* stmt, int index) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, index));
  const int bytes = sqlite3_column_bytes(stmt, index);
  return text ? std::string(text, static_cast<std::size_t>(bytes)) : std::string();
}

// Returns the record in columns volumes (first) and size (first + 1) of the current row, or
// a database error if the volumes text of key is not a JSON array of strings.
Result<Record> column_record(sqlite3_stmt* stmt, int first, std::string_view key) {
  auto volumes = parse_volumes(column_string(stmt, first));
  if (!volumes) return Error::database("corrupt volumes for key " + std::string(key));
  const auto size = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, first + 1));
  return Record{std::move(*volumes), size};
}

// Returns a connection to the database file at path, opened with flags.
//
// Through the "unix-excl" VFS: the first connection takes one exclusive POSIX lock for the
// whole process, and the WAL index lives in process memory rather than in a -shm file, so the
// connections of this process coordinate in memory and a read transaction makes no fcntl()
// call. With the default VFS every read took and dropped shared locks (~2 fcntl per request)
// and contended for the -shm mutex. Other processes cannot open the file meanwhile; the owner
// lock (server/owner_lock.h) keeps other mkv commands out anyway.
Result<Connection> open_connection(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, "unix-excl");
  Connection db(raw);  // closes raw even when opening failed
  if (rc != SQLITE_OK) return Error::database(raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  return db;
}

// Creates the table in an empty database, or checks the schema version of an existing one.
Result<void> create_or_check_schema(sqlite3* db) {
  if (auto ok = exec(db, "BEGIN IMMEDIATE"); !ok) return ok.error();
  const auto outcome = [&]() -> Result<void> {
    auto version = query_text(db, "PRAGMA user_version");
    if (!version) return version.error();
    if (*version == "0") {
      if (auto ok = exec(db, create_table_sql); !ok) return ok.error();
      return exec(db, (std::string("PRAGMA user_version = ") + schema_version).c_str());
    }
    if (*version != schema_version) {
      return Error::database("index schema version " + *version +
                             " is not supported (this build uses " + schema_version + ")");
    }
    return {};
  }();
  if (!outcome) {
    (void)exec(db, "ROLLBACK");
    return outcome.error();
  }
  return exec(db, "COMMIT");
}

// The writer connection and the statements apply() runs.
struct Writer {
  Connection db;
  Statement begin;     // BEGIN IMMEDIATE
  Statement commit;    // COMMIT
  Statement rollback;  // ROLLBACK
  Statement put;       // insert or replace one row
  Statement erase;     // delete one row
};

// Returns the writer connection to the database at path, creating the file, switching it to
// WAL mode and creating the schema as needed.
Result<Writer> open_writer(const std::string& path) {
  auto db = open_connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return db.error();
  sqlite3* raw = db->get();
  auto mode = query_text(raw, "PRAGMA journal_mode = WAL");
  if (!mode) return mode.error();
  if (*mode != "wal") return Error::database("cannot switch " + path + " to WAL mode: " + *mode);
  if (auto ok = exec(raw, "PRAGMA synchronous = FULL"); !ok) return ok.error();
  if (auto ok = create_or_check_schema(raw); !ok) return ok.error();

  Writer writer;
  const std::pair<Statement*, const char*> statements[] = {
      {&writer.begin, "BEGIN IMMEDIATE"}, {&writer.commit, "COMMIT"},
      {&writer.rollback, "ROLLBACK"},     {&writer.put, put_sql},
      {&writer.erase, erase_sql},
  };
  for (const auto& [statement, sql] : statements) {
    auto prepared = prepare(raw, sql);
    if (!prepared) return prepared.error();
    *statement = std::move(*prepared);
  }
  writer.db = std::move(*db);
  return writer;
}

// Runs a statement that returns no rows.
Result<void> run(sqlite3* db, const Statement& statement) {
  const StatementUse use(statement);
  if (sqlite3_step(use.get()) != SQLITE_DONE) return database_error(db);
  return {};
}

// Runs every write of batch, in order, inside the writer's open transaction.
Result<void> write_all(const Writer& writer, std::span<const Write> batch) {
  sqlite3* db = writer.db.get();
  std::string volumes;
  for (const Write& write : batch) {
    if (write.key.empty()) return Error::database("empty key");
    int rc = SQLITE_OK;
    if (write.record) {
      const StatementUse use(writer.put);
      volumes = encode_volumes(write.record->volumes);
      rc = bind_text(use.get(), 1, write.key);
      if (rc == SQLITE_OK) rc = bind_text(use.get(), 2, volumes);
      if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64(use.get(), 3, static_cast<sqlite3_int64>(write.record->size));
      }
      if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
    } else {
      const StatementUse use(writer.erase);
      rc = bind_text(use.get(), 1, write.key);
      if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
    }
    if (rc != SQLITE_DONE) return database_error(db);
  }
  return {};
}

// A reader connection and the statements get(), list() and scan() run.
struct Reader {
  Connection db;
  Statement get;         // the record of one key
  Statement list_range;  // keys in [lower, upper)
  Statement list_from;   // keys >= lower
  Statement scan;        // entries >= start
};

// Returns a new reader connection to the existing database at path.
Result<std::unique_ptr<Reader>> open_reader(const std::string& path) {
  auto db = open_connection(path, SQLITE_OPEN_READWRITE);
  if (!db) return db.error();
  if (auto ok = exec(db->get(), "PRAGMA query_only = ON"); !ok) return ok.error();
  auto reader = std::make_unique<Reader>();
  const std::pair<Statement*, const char*> statements[] = {
      {&reader->get, get_sql},
      {&reader->list_range, list_range_sql},
      {&reader->list_from, list_from_sql},
      {&reader->scan, scan_sql},
  };
  for (const auto& [statement, sql] : statements) {
    auto prepared = prepare(db->get(), sql);
    if (!prepared) return prepared.error();
    *statement = std::move(*prepared);
  }
  reader->db = std::move(*db);
  return reader;
}

// Reader connections to one database: opened on demand, kept for reuse. The mutex is held
// only to take or return an idle reader, never while a reader runs.
class ReaderPool {
 public:
  explicit ReaderPool(std::string path) : path_(std::move(path)) {}

  // A reader checked out of the pool; goes back to it when destroyed.
  class Lease {
   public:
    Lease(ReaderPool& pool, std::unique_ptr<Reader> reader) noexcept
        : pool_(&pool), reader_(std::move(reader)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (reader_) pool_->give_back(std::move(reader_));
    }

    Reader& operator*() const noexcept { return *reader_; }
    Reader* operator->() const noexcept { return reader_.get(); }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Reader> reader_;
  };

  // Returns an idle reader, or a newly opened one when all are busy.
  Result<Lease> borrow() {
    {
      const std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto reader = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(reader));
      }
    }
    auto reader = open_reader(path_);  // outside the lock: opening reads the file
    if (!reader) return reader.error();
    const std::lock_guard lock(mutex_);
    idle_.reserve(++opened_);  // so give_back never allocates
    return Lease(*this, std::move(*reader));
  }

 private:
  void give_back(std::unique_ptr<Reader> reader) noexcept {
    const std::lock_guard lock(mutex_);
    idle_.push_back(std::move(reader));
  }

  std::string path_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Reader>> idle_;
  std::size_t opened_ = 0;
};

}  // namespace

struct SqliteIndex::State {
  State(Writer w, const std::string& path) : writer(std::move(w)), readers(path) {}

  std::mutex write_mutex;  // apply() is called by one thread at a time; this keeps misuse safe
  Writer writer;
  ReaderPool readers;  // declared last: readers close before the writer
};

SqliteIndex::SqliteIndex(std::unique_ptr<State> state) : state_(std::move(state)) {}
SqliteIndex::SqliteIndex(SqliteIndex&&) noexcept = default;
SqliteIndex& SqliteIndex::operator=(SqliteIndex&&) noexcept = default;
SqliteIndex::~SqliteIndex() = default;

Result<SqliteIndex> SqliteIndex::open(const std::string& path) {
  auto writer = open_writer(path);
  if (!writer) return writer.error();
  return SqliteIndex(std::make_unique<State>(std::move(*writer), path));
}

Result<std::optional<Record>> SqliteIndex::get(std::string_view key) {
  auto reader = state_->readers.borrow();
  if (!reader) return reader.error();
  sqlite3* db = (*reader)->db.get();
  const StatementUse use((*reader)->get);
  int rc = bind_text(use.get(), 1, key);
  if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
  if (rc == SQLITE_DONE) return std::optional<Record>();
  if (rc != SQLITE_ROW) return database_error(db);
  auto record = column_record(use.get(), 0, key);
  if (!record) return record.error();
  return std::optional<Record>(std::move(*record));
}

Result<std::vector<std::string>> SqliteIndex::list(std::string_view prefix,
                                                   std::string_view start, std::size_t limit) {
  if (limit == 0) return std::vector<std::string>();
  auto reader = state_->readers.borrow();
  if (!reader) return reader.error();
  sqlite3* db = (*reader)->db.get();

  // Keys that start with prefix lie in [prefix, successor); none lie below prefix.
  const std::string_view lower = std::max(prefix, start);
  const std::optional<std::string> upper = prefix_successor(prefix);
  const StatementUse use(upper ? (*reader)->list_range : (*reader)->list_from);
  int rc = bind_text(use.get(), 1, lower);
  if (upper) {
    if (rc == SQLITE_OK) rc = bind_text(use.get(), 2, *upper);
    if (rc == SQLITE_OK) rc = bind_limit(use.get(), 3, limit);
  } else {
    if (rc == SQLITE_OK) rc = bind_limit(use.get(), 2, limit);
  }
  if (rc != SQLITE_OK) return database_error(db);

  std::vector<std::string> keys;
  while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) keys.push_back(column_string(use.get(), 0));
  if (rc != SQLITE_DONE) return database_error(db);
  return keys;
}

Result<std::vector<Entry>> SqliteIndex::scan(std::string_view start, std::size_t limit) {
  if (limit == 0) return std::vector<Entry>();
  auto reader = state_->readers.borrow();
  if (!reader) return reader.error();
  sqlite3* db = (*reader)->db.get();
  const StatementUse use((*reader)->scan);
  int rc = bind_text(use.get(), 1, start);
  if (rc == SQLITE_OK) rc = bind_limit(use.get(), 2, limit);
  if (rc != SQLITE_OK) return database_error(db);

  std::vector<Entry> entries;
  while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
    std::string key = column_string(use.get(), 0);
    auto record = column_record(use.get(), 1, key);
    if (!record) return record.error();
    entries.push_back({std::move(key), std::move(*record)});
  }
  if (rc != SQLITE_DONE) return database_error(db);
  return entries;
}

Result<void> SqliteIndex::apply(std::span<const Write> batch) {
  if (batch.empty()) return {};
  const std::lock_guard lock(state_->write_mutex);
  const Writer& writer = state_->writer;
  sqlite3* db = writer.db.get();
  if (auto ok = run(db, writer.begin); !ok) return ok.error();
  Result<void> outcome = write_all(writer, batch);
  if (outcome) outcome = run(db, writer.commit);
  // A failed write or COMMIT can leave the transaction open: undo all of it.
  if (!outcome && !sqlite3_get_autocommit(db)) (void)run(db, writer.rollback);
  return outcome;
}

}  // namespace mkv
