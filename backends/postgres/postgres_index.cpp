// The PostgreSQL index backend: reads on pooled sessions, writes as pipelined transactions on
// one writer session (sessions and statements: pg_session.h; schema: pg_schema.h; the store's
// life, ownership and journals: postgres_store.cpp).
//
// Writes to one key are serialized across every server sharing the database: a batch first
// takes a transaction-scoped advisory lock per key (in a fixed order, so batches never
// deadlock), so a condition is evaluated and its write made with no other writer of the key in
// between, whichever server sent it.
#include "postgres_index.h"

#include "pg_records.h"
#include "pg_session.h"
#include "postgres_state.h"

#include "mkv/list_query.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <utility>

namespace mkv {

using namespace pg;

namespace {

// Writes per round trip of a batch: the pipeline is read back after each group, so neither
// side's socket buffer fills while the other waits.
constexpr std::size_t writes_per_round_trip = 200;
// The most keys a batch locks one by one; a larger batch locks the whole index. (PostgreSQL's
// lock table holds max_locks_per_transaction, 64 by default, per connection on average.)
constexpr std::size_t keys_locked_one_by_one = 64;
// Attempts at a batch PostgreSQL aborted to resolve a race (serialization failure, deadlock).
constexpr int write_attempts = 5;

// Returns the parameters of write_statement for write, counted in shard.
Params write_params(const Write& write) {
  Params p;
  p.bytes(write.key).boolean(write.record.has_value());
  if (write.record) {
    add_record(p, *write.record);
  } else {
    add_no_record(p);
  }
  const auto kind = write.expected.kind();
  p.integer(kind == Expected::Kind::anything ? 0 : kind == Expected::Kind::absent ? 1 : 2);
  if (kind == Expected::Kind::record) {
    add_record(p, write.expected.required());
  } else {
    add_no_record(p);
  }
  p.integer(write.repair == RepairMark::keep ? 0 : write.repair == RepairMark::set ? 1 : 2);
  if (write.begin_intent) {
    const Intent& intent = *write.begin_intent;
    p.text(intent.token).text(encode_volumes(intent.volumes));
    add_record(p, intent.previous);
  } else {
    p.null().null();
    add_no_record(p);
  }
  if (write.end_intent) {
    p.text(*write.end_intent);
  } else {
    p.null();
  }
  if (write.begin_intent) {
    p.bytes(write.begin_intent->key);
  } else {
    p.null();
  }
  return p;
}

// Returns the advisory lock objects of batch's keys (a 32-bit FNV-1a hash each), sorted and
// distinct. Two keys sharing a hash only share a lock.
std::vector<std::int32_t> key_locks(std::span<const Write> batch) {
  std::vector<std::int32_t> hashes;
  hashes.reserve(batch.size());
  for (const Write& w : batch) {
    std::uint32_t h = 2166136261u;
    for (const unsigned char c : w.key) h = (h ^ c) * 16777619u;
    hashes.push_back(static_cast<std::int32_t>(h));
  }
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  return hashes;
}

// Returns hashes as a PostgreSQL int4[] literal.
std::string int4_array(const std::vector<std::int32_t>& hashes) {
  std::string text = "{";
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    if (i) text += ',';
    text += std::to_string(hashes[i]);
  }
  return text + "}";
}

// What reading back one pipelined statement found.
struct Outcome {
  std::optional<Error> error;  // the first failure of the round trip
  std::string sqlstate;        // its SQLSTATE
};

// Reads the result of one statement sent in pipeline mode into outcome (the first failure
// wins); returns the rows when it succeeded.
Rows read_one(PGconn* conn, std::string_view doing, Outcome& outcome) {
  Rows rows(PQgetResult(conn));
  const auto status = rows ? PQresultStatus(rows.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    if (!outcome.error && status != PGRES_PIPELINE_ABORTED) {
      outcome.error = failure(doing, conn, rows.get());
      outcome.sqlstate = sqlstate_of(rows.get());
    }
    rows.reset();
  }
  if (PQgetResult(conn) != nullptr && !outcome.error) {  // the statement's end marker
    outcome.error = Error::database(std::string(doing) + ": unexpected extra result");
  }
  return rows;
}

// Sends the pipeline's sync and reads its marker; false if the connection failed.
bool sync(PGconn* conn, Outcome& outcome) {
  if (PQpipelineSync(conn) != 1 || PQflush(conn) != 0) {
    if (!outcome.error) outcome.error = Error::database("send: " + message_of(conn));
    return false;
  }
  return true;
}

bool read_sync(PGconn* conn, Outcome& outcome) {
  Rows marker(PQgetResult(conn));
  if (!marker || PQresultStatus(marker.get()) != PGRES_PIPELINE_SYNC) {
    if (!outcome.error) outcome.error = failure("pipeline", conn, marker.get());
    return false;
  }
  return true;
}

// Sends a statement in pipeline mode; false if it could not be queued.
bool send(PGconn* conn, const Prepared& p, const Params& params, Outcome& outcome) {
  if (PQsendQueryPrepared(conn, p.name, params.count(), params.values(), params.lengths(),
                          params.formats(), 1) == 1) {
    return true;
  }
  if (!outcome.error) outcome.error = Error::database(std::string(p.name) + ": " + message_of(conn));
  return false;
}

bool send_text(PGconn* conn, const char* sql, Outcome& outcome) {
  if (PQsendQueryParams(conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 1) == 1) return true;
  if (!outcome.error) outcome.error = Error::database(std::string(sql) + ": " + message_of(conn));
  return false;
}

// Runs batch as one transaction on conn in pipeline mode, one round trip per
// writes_per_round_trip writes. On a failure the transaction is rolled back.
Result<std::vector<Applied>> apply_once(PGconn* conn, std::span<const Write> batch, int shard,
                                        const Params& mark, std::string& sqlstate) {
  if (PQenterPipelineMode(conn) != 1) {
    return Error::database("cannot enter pipeline mode: " + message_of(conn));
  }
  Outcome outcome;
  std::vector<Applied> applied;
  applied.reserve(batch.size());
  bool alive = send_text(conn, "BEGIN", outcome);
  Params count_shard;
  count_shard.integer(shard);
  const auto keys = key_locks(batch);
  Params locks;
  if (keys.size() <= keys_locked_one_by_one) {
    locks.text(int4_array(keys)).integer(control_lock_class).integer(write_lock);
    locks.integer(key_lock_class);
    alive = alive && send(conn, lock_statement, locks, outcome);
  } else {
    locks.integer(control_lock_class).integer(write_lock);
    alive = alive && send(conn, lock_all_statement, locks, outcome);
  }
  for (std::size_t begin = 0; alive && begin < batch.size(); begin += writes_per_round_trip) {
    const std::size_t end = std::min(batch.size(), begin + writes_per_round_trip);
    for (std::size_t i = begin; alive && i < end; ++i) {
      alive = send(conn, write_statement, write_params(batch[i]), outcome);
    }
    const bool last = end == batch.size();
    if (alive && last) alive = send(conn, add_count_statement, count_shard, outcome);
    if (alive && last) alive = send(conn, mark_commit_statement, mark, outcome);
    if (alive && last) alive = send_text(conn, "COMMIT", outcome);
    alive = alive && sync(conn, outcome);
    if (!alive) break;
    if (begin == 0) {
      read_one(conn, "BEGIN", outcome);
      read_one(conn, "lock the keys", outcome);
    }
    for (std::size_t i = begin; i < end; ++i) {
      Rows rows = read_one(conn, "write", outcome);
      if (rows && PQntuples(rows.get()) == 1) {
        applied.push_back(bool_at(rows.get(), 0, 0) ? Applied::written
                                                    : Applied::condition_failed);
      } else if (!outcome.error) {
        outcome.error = Error::database("write: no outcome for key " + batch[i].key);
      }
    }
    if (last) read_one(conn, "count the keys", outcome);
    if (last) read_one(conn, "mark the commit", outcome);
    if (last) read_one(conn, "COMMIT", outcome);
    alive = read_sync(conn, outcome);
    if (outcome.error) break;
  }
  if (alive) PQexitPipelineMode(conn);
  if (!outcome.error) return applied;
  sqlstate = outcome.sqlstate;
  if (alive && PQtransactionStatus(conn) != PQTRANS_IDLE) {
    Rows undone(PQexec(conn, "ROLLBACK"));
  }
  return *outcome.error;
}

}  // namespace

PostgresIndex::PostgresIndex(std::unique_ptr<State> state) : state_(std::move(state)) {}
PostgresIndex::PostgresIndex(PostgresIndex&&) noexcept = default;
PostgresIndex& PostgresIndex::operator=(PostgresIndex&&) noexcept = default;
PostgresIndex::~PostgresIndex() = default;

const std::string& PostgresIndex::conninfo() const { return state_->readers.conninfo(); }

Result<PostgresIndex> PostgresIndex::open(const std::string& conninfo) {
  if (auto ok = pg_store::migrate(conninfo); !ok) return ok.error();
  return open_schema(conninfo, live_schema);
}

Result<std::optional<Record>> PostgresIndex::get(std::string_view key) {
  auto session = state_->readers.borrow();
  if (!session) return session.error();
  Params p;
  p.bytes(key);
  auto rows = exec_prepared(session->get(), get_statement, p);
  if (!rows) return rows.error();
  return decode_get(rows->get(), key);
}

Result<std::vector<std::string>> PostgresIndex::list(std::string_view prefix,
                                                     std::string_view start, std::size_t limit) {
  if (limit == 0) return std::vector<std::string>();
  auto session = state_->readers.borrow();
  if (!session) return session.error();
  // Keys that start with prefix lie in [prefix, successor); none lie below prefix.
  const std::optional<std::string> upper = prefix_successor(prefix);
  auto rows = exec_prepared(session->get(), upper ? list_range_statement : list_from_statement,
                            list_params(prefix, start, upper, limit));
  if (!rows) return rows.error();
  return decode_keys(rows->get());
}

Result<std::vector<Entry>> PostgresIndex::scan(std::string_view start, std::size_t limit) {
  if (limit == 0) return std::vector<Entry>();
  auto session = state_->readers.borrow();
  if (!session) return session.error();
  Params p;
  p.bytes(start).integer(row_limit(limit));
  auto rows = exec_prepared(session->get(), scan_statement, p);
  if (!rows) return rows.error();
  return decode_entries(rows->get());
}

Result<std::vector<Intent>> PostgresIndex::intents() {
  auto session = state_->readers.borrow();
  if (!session) return session.error();
  auto rows = exec(session->get(), "read intents",
                   "SELECT token, key, volumes, previous_volumes, previous_size, previous_md5,"
                   " previous_modified, previous_meta FROM intents ORDER BY token");
  if (!rows) return rows.error();
  std::vector<Intent> intents;
  for (int i = 0; i < PQntuples(rows->get()); ++i) {
    Intent intent{bytes_at(rows->get(), i, 0), bytes_at(rows->get(), i, 1), {}, {}};
    auto volumes = parse_volumes(bytes_at(rows->get(), i, 2));
    auto previous = record_at(rows->get(), i, 3, intent.key);
    if (!volumes || !previous) return Error::database("corrupt intent " + intent.token);
    intent.volumes = std::move(*volumes);
    intent.previous = std::move(*previous);
    intents.push_back(std::move(intent));
  }
  return intents;
}

Result<std::vector<std::string>> PostgresIndex::repairs(std::string_view start,
                                                        std::size_t limit) {
  if (limit == 0) return std::vector<std::string>();
  auto session = state_->readers.borrow();
  if (!session) return session.error();
  Params p;
  p.bytes(start).integer(row_limit(limit));
  auto rows = exec(session->get(), "read repair marks",
                   "SELECT key FROM repairs WHERE key >= $1::bytea ORDER BY key LIMIT $2::int8", p);
  if (!rows) return rows.error();
  std::vector<std::string> keys;
  for (int i = 0; i < PQntuples(rows->get()); ++i) keys.push_back(bytes_at(rows->get(), i, 0));
  return keys;
}

Result<std::uint64_t> PostgresIndex::count() {
  auto session = state_->readers.borrow();
  if (!session) return session.error();
  auto rows = exec(session->get(), "count keys", "SELECT coalesce(sum(value), 0)::int8 FROM counts");
  if (!rows) return rows.error();
  if (PQntuples(rows->get()) != 1) return std::uint64_t{0};
  return static_cast<std::uint64_t>(std::max<std::int64_t>(int8_at(rows->get(), 0, 0), 0));
}

Result<std::vector<Applied>> PostgresIndex::apply(std::span<const Write> batch) {
  if (batch.empty()) return std::vector<Applied>();
  for (const Write& w : batch) {
    if (w.key.empty()) return Error::database("empty key");
  }
  const std::lock_guard lock(state_->write_mutex);
  Result<std::vector<Applied>> outcome = Error::database("not attempted");
  for (int attempt = 0; attempt < write_attempts; ++attempt) {
    if (!state_->writer || PQstatus(state_->writer.get()) != CONNECTION_OK) {
      auto conn = open_session(state_->readers.conninfo(), state_->readers.schema());
      if (!conn) return conn.error();
      state_->writer = std::move(*conn);
    }
    const std::string token =
        state_->server_id + "w" + std::to_string(state_->commits.fetch_add(1) + 1);
    Params mark;
    mark.text(token).text(state_->last_commit);
    std::string sqlstate;
    outcome = apply_once(state_->writer.get(), batch, state_->shard, mark, sqlstate);
    if (outcome) {
      state_->last_commit = token;
      break;
    }
    if (PQstatus(state_->writer.get()) != CONNECTION_OK) {
      // The connection broke: the transaction may have committed before the answer was lost
      // (a failover between COMMIT and its reply). Callers undo the volume writes of a write
      // the index refused, so find out which it was.
      state_->writer.reset();
      return settle_lost_commit(token, batch, outcome.error());
    }
    if (PQpipelineStatus(state_->writer.get()) != PQ_PIPELINE_OFF) {
      state_->writer.reset();  // left mid-pipeline with the connection up: start afresh
      break;
    }
    if (!is_retryable(sqlstate)) break;
  }
  return outcome;
}

Result<std::vector<Applied>> PostgresIndex::settle_lost_commit(const std::string& token,
                                                               std::span<const Write> batch,
                                                               const Error& lost) {
  // A failover takes seconds: try to reach the (new) primary for up to half a lease time, while
  // this server's leases still keep every other writer off these keys.
  const auto deadline = std::chrono::steady_clock::now() + lease_time / 2;
  auto pause = std::chrono::milliseconds(100);
  for (;;) {
    auto session = state_->readers.borrow();
    if (session) {
      Params p;
      p.text(token);
      auto marked = exec(session->get(), "look for a lost commit",
                         "SELECT 1 FROM commits WHERE token = $1::text", p);
      // An idle session that broke with the old primary: drop it and take the next at once.
      if (!marked && PQstatus(session->get()) != CONNECTION_OK) continue;
      if (marked) {
        if (PQntuples(marked->get()) == 0) return lost;  // it did not commit: nothing applied
        state_->last_commit = token;
        // It committed. Each write holds its key's lease, so the key still shows what the
        // batch left: the write's record where its condition held, and not otherwise.
        std::vector<Applied> applied;
        applied.reserve(batch.size());
        for (const Write& w : batch) {
          auto now = get(w.key);
          if (!now) return Error::database("commit lost and not settled: " + now.error().detail);
          applied.push_back(*now == w.record ? Applied::written : Applied::condition_failed);
        }
        return applied;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error::database(lost.detail + "; whether it committed is unknown");
    }
    std::this_thread::sleep_for(pause);  // the writer thread, never an IO thread
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace mkv
