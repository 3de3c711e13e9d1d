// A PostgreSQL session of the index: a connection whose search_path names one of the index's
// schemas and whose statements are prepared, and the pool that lends idle sessions to readers.
#pragma once

#include "pg_handles.h"
#include "pg_schema.h"

#include "mkv/error.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mkv::pg {

// The statements every session prepares, by name.
struct Prepared {
  const char* name;
  const char* sql;
};

inline constexpr Prepared get_statement{
    "get", "SELECT volumes, size, md5, modified, meta FROM blobs WHERE key = $1::bytea"};
inline constexpr Prepared list_range_statement{
    "list_range",
    "SELECT key FROM blobs WHERE key >= $1::bytea AND key < $2::bytea ORDER BY key LIMIT "
    "$3::int8"};
inline constexpr Prepared list_from_statement{
    "list_from", "SELECT key FROM blobs WHERE key >= $1::bytea ORDER BY key LIMIT $2::int8"};
inline constexpr Prepared scan_statement{
    "scan",
    "SELECT key, volumes, size, md5, modified, meta FROM blobs WHERE key >= $1::bytea ORDER BY"
    " key LIMIT $2::int8"};
// Locks the keys of a write batch: $1 their hashes, sorted and distinct, so that two batches
// always lock in the same order and cannot deadlock, after the shared write lock ($2, $3).
inline constexpr Prepared lock_statement{
    "lock_keys",
    "SELECT pg_advisory_xact_lock_shared($2::int4, $3::int4),"
    " (SELECT count(pg_advisory_xact_lock($4::int4, h)) FROM unnest($1::int4[]) h)"};
// Locks every key at once: for a batch too large to lock key by key within PostgreSQL's lock
// table (max_locks_per_transaction), such as rebuild's. Waits for every other write.
inline constexpr Prepared lock_all_statement{
    "lock_all", "SELECT pg_advisory_xact_lock($1::int4, $2::int4)"};
// One write of a batch: evaluates its condition against the key's current record and, if it
// holds, stores or removes the record, keeps the repair mark and the intents, all in one
// statement (data-modifying WITH clauses all run); returns whether the condition held. What it
// changes the count of keys by is added up in the transaction's setting mkv.count_delta, which
// add_count_statement adds to the count once per transaction (a row updated by every write of
// a large transaction would pile up versions the transaction cannot shed: each update slower
// than the last). $1 key, $2 store (else remove), $3-$7 the record, $8 the condition
// (0 anything, 1 absent, 2 the record $9-$13), $14 repair (0 keep, 1 set, 2 clear), $15-$21 an
// intent to begin (token NULL: none) and $23 its key, $22 an intent's token to end (NULL:
// none).
inline constexpr Prepared write_statement{
    "write",
    "WITH cur AS (SELECT volumes, size, md5, modified, meta FROM blobs WHERE key = $1::bytea),"
    " ok AS (SELECT CASE $8::int4 WHEN 0 THEN true"
    "   WHEN 1 THEN NOT EXISTS (SELECT 1 FROM cur)"
    "   ELSE EXISTS (SELECT 1 FROM cur WHERE volumes = $9::text AND size = $10::int8"
    "     AND md5 IS NOT DISTINCT FROM $11::bytea AND modified = $12::int8"
    "     AND meta IS NOT DISTINCT FROM $13::bytea) END AS ok),"
    " put AS (INSERT INTO blobs (key, volumes, size, md5, modified, meta)"
    "   SELECT $1::bytea, $3::text, $4::int8, $5::bytea, $6::int8, $7::bytea FROM ok"
    "   WHERE ok.ok AND $2::bool ON CONFLICT (key) DO UPDATE SET volumes = excluded.volumes,"
    "   size = excluded.size, md5 = excluded.md5, modified = excluded.modified,"
    "   meta = excluded.meta RETURNING 1),"
    " gone AS (DELETE FROM blobs WHERE key = $1::bytea AND NOT $2::bool"
    "   AND (SELECT ok FROM ok) RETURNING 1),"
    " marked AS (INSERT INTO repairs (key) SELECT $1::bytea FROM ok"
    "   WHERE ok.ok AND $14::int4 = 1 ON CONFLICT DO NOTHING RETURNING 1),"
    " unmarked AS (DELETE FROM repairs WHERE key = $1::bytea AND $14::int4 = 2"
    "   AND (SELECT ok FROM ok) RETURNING 1),"
    " began AS (INSERT INTO intents (token, key, volumes, previous_volumes, previous_size,"
    "   previous_md5, previous_modified, previous_meta)"
    "   SELECT $15::text, $23::bytea, $16::text, $17::text, $18::int8, $19::bytea, $20::int8,"
    "   $21::bytea FROM ok WHERE ok.ok AND $15::text IS NOT NULL ON CONFLICT (token) DO UPDATE"
    "   SET key = excluded.key, volumes = excluded.volumes,"
    "   previous_volumes = excluded.previous_volumes, previous_size = excluded.previous_size,"
    "   previous_md5 = excluded.previous_md5, previous_modified = excluded.previous_modified,"
    "   previous_meta = excluded.previous_meta RETURNING 1),"
    " ended AS (DELETE FROM intents WHERE token = $22::text AND (SELECT ok FROM ok)"
    "   RETURNING 1),"
    " delta AS (SELECT CASE WHEN NOT (SELECT ok FROM ok) OR $2::bool = EXISTS (SELECT 1 FROM cur)"
    "   THEN 0 WHEN $2::bool THEN 1 ELSE -1 END AS d)"
    " SELECT ok, set_config('mkv.count_delta', (coalesce(nullif(current_setting("
    "   'mkv.count_delta', true), ''), '0')::int8 + d)::text, true) FROM ok, delta"};

// Adds what a transaction's writes changed the count of keys by to its shard $1.
inline constexpr Prepared add_count_statement{
    "add_count",
    "UPDATE counts SET value = value + coalesce(nullif(current_setting('mkv.count_delta', true),"
    " ''), '0')::int8 WHERE shard = $1::int4"};

// Cross-server key locks (PostgresIndex::take_lease): a lease is taken if the key has none,
// or an expired one, or one of this server's own ($4, the prefix of its tokens).
inline constexpr Prepared take_lease_statement{
    "take_lease",
    "INSERT INTO leases (key, owner, expires) VALUES ($1::bytea, $2::text,"
    " now() + $3::int8 * interval '1 millisecond') ON CONFLICT (key) DO UPDATE"
    " SET owner = excluded.owner, expires = excluded.expires"
    " WHERE leases.expires < now() OR starts_with(leases.owner, $4::text) RETURNING 1"};
inline constexpr Prepared drop_lease_statement{
    "drop_lease", "DELETE FROM leases WHERE key = $1::bytea AND owner = $2::text"};
inline constexpr Prepared renew_leases_statement{
    "renew_leases",
    "UPDATE leases SET expires = now() + $2::int8 * interval '1 millisecond'"
    " WHERE starts_with(owner, $1::text)"};
// A live lease of another server (not $2's tokens: this server's own writers are checked in
// process, and its lease drops trail its writes) on a key that collides with $1 as a path: a
// parent (each prefix of $1 that ends before a '/') or a child (below $1/).
inline constexpr Prepared leased_relative_statement{
    "leased_relative",
    "SELECT key FROM leases WHERE expires > now() AND NOT starts_with(owner, $2::text)"
    " AND (key IN (SELECT substr($1::bytea, 1, p - 1)"
    " FROM generate_series(1, length($1::bytea)) p WHERE get_byte($1::bytea, p - 1) = 47)"
    " OR (key >= $1::bytea || '\\x2f'::bytea AND key < $1::bytea || '\\x30'::bytea)) LIMIT 1"};

// Whether another server (not $1's tokens) holds a live lease: it may be writing.
inline constexpr Prepared others_leasing_statement{
    "others_leasing",
    "SELECT EXISTS (SELECT 1 FROM leases WHERE expires > now()"
    " AND NOT starts_with(owner, $1::text))"};

// The mark of one write transaction ($1), replacing the writer's previous one ($2).
inline constexpr Prepared mark_commit_statement{
    "mark_commit",
    "WITH gone AS (DELETE FROM commits WHERE token = $2::text)"
    " INSERT INTO commits (token) VALUES ($1::text)"};

inline constexpr Prepared all_statements[] = {
    mark_commit_statement, add_count_statement,
    get_statement,        list_range_statement,      list_from_statement,
    scan_statement,       lock_statement,            lock_all_statement,
    write_statement,      take_lease_statement,      drop_lease_statement,
    renew_leases_statement, leased_relative_statement, others_leasing_statement};

// Returns a connection to conninfo whose tables are those of schema, with every statement
// prepared. Blocks while it connects.
inline Result<Connection> open_session(const std::string& conninfo, const std::string& schema) {
  auto conn = connect(conninfo);
  if (!conn) return conn.error();
  const std::string path = "SET search_path TO " + schema + ", mkv_control";
  if (auto ok = exec_script(conn->get(), "set the search path", path.c_str()); !ok) {
    return ok.error();
  }
  for (const auto& p : all_statements) {
    Rows rows(PQprepare(conn->get(), p.name, p.sql, 0, nullptr));
    if (!rows || PQresultStatus(rows.get()) != PGRES_COMMAND_OK) {
      return failure(std::string("prepare ") + p.name, conn->get(), rows.get());
    }
  }
  return std::move(*conn);
}

// Runs a prepared statement and returns its rows (binary columns).
inline Result<Rows> exec_prepared(PGconn* conn, const Prepared& p, const Params& params) {
  Rows rows(PQexecPrepared(conn, p.name, params.count(), params.values(), params.lengths(),
                           params.formats(), 1));
  const auto status = rows ? PQresultStatus(rows.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return failure(p.name, conn, rows.get());
  }
  return rows;
}

// Idle sessions of one index, lent to one caller at a time. The mutex is held only to take or
// return a session, never while one is used; a session whose connection broke is not taken
// back, so the next borrower connects afresh.
class SessionPool {
 public:
  SessionPool(std::string conninfo, std::string schema)
      : conninfo_(std::move(conninfo)), schema_(std::move(schema)) {}

  class Lease {
   public:
    Lease(SessionPool& pool, Connection conn) noexcept : pool_(&pool), conn_(std::move(conn)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->give_back(std::move(conn_));
    }
    PGconn* get() const noexcept { return conn_.get(); }

   private:
    SessionPool* pool_;
    Connection conn_;
  };

  // Returns an idle session, or a new one (blocking while it connects).
  Result<Lease> borrow() {
    if (auto idle = try_borrow()) return std::move(*idle);
    auto conn = open_session(conninfo_, schema_);
    if (!conn) return conn.error();
    const std::lock_guard lock(mutex_);
    opened_ += 1;
    return Lease(*this, std::move(*conn));
  }

  // Returns an idle session, if there is one.
  std::optional<Lease> try_borrow() {
    const std::lock_guard lock(mutex_);
    if (idle_.empty()) return std::nullopt;
    Connection conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(conn));
  }

  // Counts a session about to be opened, if fewer than limit are open; false otherwise.
  bool reserve(std::size_t limit) {
    const std::lock_guard lock(mutex_);
    if (opened_ >= limit) return false;
    opened_ += 1;
    return true;
  }
  // Returns a session opened after reserve(), or takes back the reservation (conn empty).
  std::optional<Lease> adopt(Connection conn) {
    if (conn) return Lease(*this, std::move(conn));
    const std::lock_guard lock(mutex_);
    opened_ -= 1;
    return std::nullopt;
  }

  const std::string& conninfo() const { return conninfo_; }
  const std::string& schema() const { return schema_; }

 private:
  void give_back(Connection conn) noexcept {
    const std::lock_guard lock(mutex_);
    if (PQstatus(conn.get()) != CONNECTION_OK ||
        PQtransactionStatus(conn.get()) != PQTRANS_IDLE) {
      opened_ -= 1;
      return;  // broken, or left inside a transaction: close it
    }
    try {
      idle_.push_back(std::move(conn));
    } catch (...) {
      opened_ -= 1;  // out of memory: the connection closes instead of waiting idle
    }
  }

  std::string conninfo_;
  std::string schema_;
  std::mutex mutex_;
  std::vector<Connection> idle_;
  std::size_t opened_ = 0;  // sessions open, idle or lent
};

}  // namespace mkv::pg
