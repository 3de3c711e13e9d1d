// The SQLite index backend: one writer connection and a pool of reader connections, each
// keeping its prepared statements. (Schema and migrations: sqlite_schema.h; the files around
// the index: sqlite_files.cpp.)
//
// Every connection runs in WAL mode; the writer uses synchronous=FULL, so a transaction is
// fsynced to the WAL before apply() returns and an acknowledged write survives power loss.
// Readers see the last committed state and never block the writer or each other.
#include "sqlite_index.h"

#include "sqlite_handles.h"
#include "sqlite_schema.h"

#include "local_files.h"

#include "mkv/list_query.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <mutex>
#include <utility>

namespace mkv {

using namespace sqlite;

namespace {

constexpr const char* get_sql =
    "SELECT volumes, size, md5, modified, meta FROM blobs WHERE key = ?1";
constexpr const char* list_range_sql =
    "SELECT key FROM blobs WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3";
constexpr const char* list_from_sql =
    "SELECT key FROM blobs WHERE key >= ?1 ORDER BY key LIMIT ?2";
constexpr const char* scan_sql =
    "SELECT key, volumes, size, md5, modified, meta FROM blobs WHERE key >= ?1 ORDER BY key"
    " LIMIT ?2";
constexpr const char* put_sql =
    "INSERT INTO blobs (key, volumes, size, md5, modified, meta) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    " ON CONFLICT (key) DO UPDATE SET volumes = excluded.volumes, size = excluded.size,"
    " md5 = excluded.md5, modified = excluded.modified, meta = excluded.meta";
constexpr const char* erase_sql = "DELETE FROM blobs WHERE key = ?1";
constexpr const char* begin_intent_sql =
    "INSERT OR REPLACE INTO intents (token, key, volumes, previous_volumes, previous_size,"
    " previous_md5, previous_modified, previous_meta) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* end_intent_sql = "DELETE FROM intents WHERE token = ?1";
constexpr const char* intents_sql =
    "SELECT token, key, volumes, previous_volumes, previous_size, previous_md5,"
    " previous_modified, previous_meta FROM intents ORDER BY token";
constexpr const char* mark_repair_sql = "INSERT OR IGNORE INTO repairs (key) VALUES (?1)";
constexpr const char* clear_repair_sql = "DELETE FROM repairs WHERE key = ?1";
constexpr const char* add_keys_sql = "UPDATE counts SET value = value + ?1 WHERE name = 'keys'";
constexpr const char* count_sql = "SELECT value FROM counts WHERE name = 'keys'";
constexpr const char* repairs_sql =
    "SELECT key FROM repairs WHERE key >= ?1 ORDER BY key LIMIT ?2";

// Binds a row limit; SQLite takes a signed 64-bit LIMIT.
int bind_limit(sqlite3_stmt* stmt, int index, std::size_t limit) {
  constexpr auto max = static_cast<std::size_t>(std::numeric_limits<sqlite3_int64>::max());
  return sqlite3_bind_int64(stmt, index, static_cast<sqlite3_int64>(std::min(limit, max)));
}

// Returns the record in the columns volumes, size, md5, modified and meta (from first on) of the
// current row, or a database error if the volumes text of key is not a JSON array of strings or
// its md5 is not 16 bytes.
Result<Record> column_record(sqlite3_stmt* stmt, int first, std::string_view key) {
  auto volumes = parse_volumes(column_string(stmt, first));
  if (!volumes) return Error::database("corrupt volumes for key " + std::string(key));
  Record record{std::move(*volumes),
                static_cast<std::uint64_t>(sqlite3_column_int64(stmt, first + 1))};
  if (sqlite3_column_type(stmt, first + 2) != SQLITE_NULL) {
    const auto* bytes = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, first + 2));
    if (sqlite3_column_bytes(stmt, first + 2) != 16) {
      return Error::database("corrupt checksum for key " + std::string(key));
    }
    Md5 digest;
    std::copy(bytes, bytes + 16, digest.begin());
    record.md5 = digest;
  }
  record.modified = sqlite3_column_int64(stmt, first + 3);
  if (sqlite3_column_type(stmt, first + 4) != SQLITE_NULL) {
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, first + 4));
    record.meta.assign(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt, first + 4)));
  }
  return record;
}

// Binds record's size, md5, modified and meta to the parameters from first on.
int bind_record_fields(sqlite3_stmt* stmt, int first, const Record& record) {
  int rc = sqlite3_bind_int64(stmt, first, static_cast<sqlite3_int64>(record.size));
  if (rc == SQLITE_OK) {
    rc = record.md5 ? sqlite3_bind_blob(stmt, first + 1, record.md5->data(), 16, SQLITE_STATIC)
                    : sqlite3_bind_null(stmt, first + 1);
  }
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, first + 2, record.modified);
  if (rc == SQLITE_OK) {
    rc = record.meta.empty()
             ? sqlite3_bind_null(stmt, first + 3)
             : sqlite3_bind_blob(stmt, first + 3, record.meta.data(),
                                 static_cast<int>(record.meta.size()), SQLITE_STATIC);
  }
  return rc;
}

// Returns the record of key through the prepared get statement, or nullopt if there is none.
Result<std::optional<Record>> read_record(sqlite3* db, const Statement& get, std::string_view key) {
  const StatementUse use(get);
  int rc = bind_text(use.get(), 1, key);
  if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
  if (rc == SQLITE_DONE) return std::optional<Record>();
  if (rc != SQLITE_ROW) return database_error(db);
  auto record = column_record(use.get(), 0, key);
  if (!record) return record.error();
  return std::optional<Record>(std::move(*record));
}

// Prepares each (statement, sql) pair on db.
template <std::size_t N>
Result<void> prepare_all(sqlite3* db, const std::pair<Statement*, const char*> (&statements)[N]) {
  for (const auto& [statement, sql] : statements) {
    auto prepared = prepare(db, sql);
    if (!prepared) return prepared.error();
    *statement = std::move(*prepared);
  }
  return {};
}

// The writer connection and the statements apply() runs.
struct Writer {
  Connection db;
  Statement begin;     // BEGIN IMMEDIATE
  Statement commit;    // COMMIT
  Statement rollback;  // ROLLBACK
  Statement get;       // the current record of a conditional write's key
  Statement put;       // insert or replace one row
  Statement erase;     // delete one row
  Statement begin_intent;  // record an intent
  Statement end_intent;    // remove an intent
  Statement mark_repair;   // mark a key for repair
  Statement clear_repair;  // remove a key's repair mark
  Statement add_keys;      // add to the count of keys
};

// Returns the writer connection to the database at path, creating the file, switching it to
// WAL mode and bringing its schema up to date as needed.
Result<Writer> open_writer(const std::string& path) {
  auto db = open_connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return db.error();
  sqlite3* raw = db->get();
  auto mode = query_text(raw, "PRAGMA journal_mode = WAL");
  if (!mode) return mode.error();
  if (*mode != "wal") return Error::database("cannot switch " + path + " to WAL mode: " + *mode);
  if (auto ok = exec(raw, "PRAGMA synchronous = FULL"); !ok) return ok.error();
  if (auto ok = migrate(raw); !ok) return ok.error();

  Writer writer;
  if (auto ok = prepare_all(raw, {{&writer.begin, "BEGIN IMMEDIATE"},
                                  {&writer.commit, "COMMIT"},
                                  {&writer.rollback, "ROLLBACK"},
                                  {&writer.get, get_sql},
                                  {&writer.put, put_sql},
                                  {&writer.erase, erase_sql},
                                  {&writer.begin_intent, begin_intent_sql},
                                  {&writer.end_intent, end_intent_sql},
                                  {&writer.mark_repair, mark_repair_sql},
                                  {&writer.clear_repair, clear_repair_sql},
                                  {&writer.add_keys, add_keys_sql}});
      !ok) {
    return ok.error();
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

// Stores record under key, or removes key when record is empty.
Result<void> write_row(const Writer& writer, const std::string& key,
                       const std::optional<Record>& record) {
  sqlite3* db = writer.db.get();
  int rc = SQLITE_OK;
  if (record) {
    const StatementUse use(writer.put);
    const std::string volumes = encode_volumes(record->volumes);
    rc = bind_text(use.get(), 1, key);
    if (rc == SQLITE_OK) rc = bind_text(use.get(), 2, volumes);
    if (rc == SQLITE_OK) rc = bind_record_fields(use.get(), 3, *record);
    if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
  } else {
    const StatementUse use(writer.erase);
    rc = bind_text(use.get(), 1, key);
    if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
  }
  if (rc != SQLITE_DONE) return database_error(db);
  return {};
}

// Records an intent, or removes the intent of a token, as a write asks.
Result<void> write_intent(const Writer& writer, const Write& write) {
  sqlite3* db = writer.db.get();
  int rc = SQLITE_DONE;
  if (write.begin_intent) {
    const Intent& intent = *write.begin_intent;
    const StatementUse use(writer.begin_intent);
    const std::string volumes = encode_volumes(intent.volumes);
    const std::string previous = encode_volumes(intent.previous.volumes);
    rc = bind_text(use.get(), 1, intent.token);
    if (rc == SQLITE_OK) rc = bind_text(use.get(), 2, intent.key);
    if (rc == SQLITE_OK) rc = bind_text(use.get(), 3, volumes);
    if (rc == SQLITE_OK) rc = bind_text(use.get(), 4, previous);
    if (rc == SQLITE_OK) rc = bind_record_fields(use.get(), 5, intent.previous);
    if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
    if (rc != SQLITE_DONE) return database_error(db);
  }
  if (write.end_intent) {
    const StatementUse use(writer.end_intent);
    rc = bind_text(use.get(), 1, *write.end_intent);
    if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
    if (rc != SQLITE_DONE) return database_error(db);
  }
  return {};
}

// Runs every write of batch whose condition holds, in order, inside the writer's open
// transaction, and keeps the count of keys; returns what became of each.
Result<std::vector<Applied>> write_all(const Writer& writer, std::span<const Write> batch) {
  std::vector<Applied> applied;
  applied.reserve(batch.size());
  std::int64_t keys_added = 0;
  for (const Write& write : batch) {
    if (write.key.empty()) return Error::database("empty key");
    auto current = read_record(writer.db.get(), writer.get, write.key);
    // An unconditional write may replace a row whose record cannot be read (corrupt): it is
    // there, so replacing it adds no key.
    if (!current && write.expected != Expected::anything()) return current.error();
    if (current && !write.expected.holds(*current)) {
      applied.push_back(Applied::condition_failed);
      continue;
    }
    keys_added += (write.record ? 1 : 0) - (!current || *current ? 1 : 0);
    if (auto written = write_row(writer, write.key, write.record); !written) return written.error();
    if (auto intent = write_intent(writer, write); !intent) return intent.error();
    if (write.repair != RepairMark::keep) {
      const StatementUse use(write.repair == RepairMark::set ? writer.mark_repair
                                                             : writer.clear_repair);
      int rc = bind_text(use.get(), 1, write.key);
      if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
      if (rc != SQLITE_DONE) return database_error(writer.db.get());
    }
    applied.push_back(Applied::written);
  }
  if (keys_added != 0) {
    const StatementUse use(writer.add_keys);
    int rc = sqlite3_bind_int64(use.get(), 1, keys_added);
    if (rc == SQLITE_OK) rc = sqlite3_step(use.get());
    if (rc != SQLITE_DONE) return database_error(writer.db.get());
  }
  return applied;
}

// A reader connection and the statements get(), list() and scan() run.
struct Reader {
  Connection db;
  Statement get;         // the record of one key
  Statement list_range;  // keys in [lower, upper)
  Statement list_from;   // keys >= lower
  Statement scan;        // entries >= start
  Statement intents;     // every intent
  Statement repairs;     // marked keys >= start
  Statement count;       // the count of keys
};

// Returns a new reader connection to the existing database at path.
Result<std::unique_ptr<Reader>> open_reader(const std::string& path) {
  auto db = open_connection(path, SQLITE_OPEN_READWRITE);
  if (!db) return db.error();
  if (auto ok = exec(db->get(), "PRAGMA query_only = ON"); !ok) return ok.error();
  auto reader = std::make_unique<Reader>();
  if (auto ok = prepare_all(db->get(), {{&reader->get, get_sql},
                                        {&reader->list_range, list_range_sql},
                                        {&reader->list_from, list_from_sql},
                                        {&reader->scan, scan_sql},
                                        {&reader->intents, intents_sql},
                                        {&reader->repairs, repairs_sql},
                                        {&reader->count, count_sql}});
      !ok) {
    return ok.error();
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
  State(Writer w, const std::string& p) : path(p), writer(std::move(w)), readers(p) {}

  std::string path;
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
  return read_record((*reader)->db.get(), (*reader)->get, key);
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

Result<std::vector<Intent>> SqliteIndex::intents() {
  auto reader = state_->readers.borrow();
  if (!reader) return reader.error();
  sqlite3* db = (*reader)->db.get();
  const StatementUse use((*reader)->intents);
  std::vector<Intent> intents;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
    Intent intent{column_string(use.get(), 0), column_string(use.get(), 1), {}, {}};
    auto volumes = parse_volumes(column_string(use.get(), 2));
    auto previous = column_record(use.get(), 3, intent.key);
    if (!volumes || !previous) return Error::database("corrupt intent " + intent.token);
    intent.volumes = std::move(*volumes);
    intent.previous = std::move(*previous);
    intents.push_back(std::move(intent));
  }
  if (rc != SQLITE_DONE) return database_error(db);
  return intents;
}

Result<std::uint64_t> SqliteIndex::count() {
  auto reader = state_->readers.borrow();
  if (!reader) return reader.error();
  const StatementUse use((*reader)->count);
  const int rc = sqlite3_step(use.get());
  if (rc == SQLITE_DONE) return std::uint64_t{0};
  if (rc != SQLITE_ROW) return database_error((*reader)->db.get());
  const sqlite3_int64 keys = sqlite3_column_int64(use.get(), 0);
  return static_cast<std::uint64_t>(std::max<sqlite3_int64>(keys, 0));
}

Result<std::vector<std::string>> SqliteIndex::repairs(std::string_view start,
                                                      std::size_t limit) {
  if (limit == 0) return std::vector<std::string>();
  auto reader = state_->readers.borrow();
  if (!reader) return reader.error();
  sqlite3* db = (*reader)->db.get();
  const StatementUse use((*reader)->repairs);
  int rc = bind_text(use.get(), 1, start);
  if (rc == SQLITE_OK) rc = bind_limit(use.get(), 2, limit);
  if (rc != SQLITE_OK) return database_error(db);
  std::vector<std::string> keys;
  while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) keys.push_back(column_string(use.get(), 0));
  if (rc != SQLITE_DONE) return database_error(db);
  return keys;
}

Result<std::vector<Applied>> SqliteIndex::apply(std::span<const Write> batch) {
  if (batch.empty()) return std::vector<Applied>();
  const std::lock_guard lock(state_->write_mutex);
  const Writer& writer = state_->writer;
  sqlite3* db = writer.db.get();
  if (auto ok = run(db, writer.begin); !ok) return ok.error();
  auto applied = write_all(writer, batch);
  Result<void> committed = applied ? run(db, writer.commit) : Result<void>(applied.error());
  // A failed write or COMMIT can leave the transaction open: undo all of it.
  if (!committed) {
    if (!sqlite3_get_autocommit(db)) (void)run(db, writer.rollback);
    return committed.error();
  }
  return applied;
}

Result<std::optional<std::string>> SqliteIndex::read_journal(std::string_view name) {
  return local::read_journal(local::journal_path(state_->path, name), name);
}

Result<void> SqliteIndex::write_journal(std::string_view name, std::string_view text) {
  return local::write_journal(local::journal_path(state_->path, name), name, text);
}

Result<void> SqliteIndex::remove_journal(std::string_view name) {
  return local::remove_journal(local::journal_path(state_->path, name), name);
}

}  // namespace mkv
