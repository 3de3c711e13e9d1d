// The life of a PostgreSQL index: creating and migrating its schemas, who holds it, rebuild's
// replacement schema and the swap that puts it in place, and jobs' journals.
#include "postgres_index.h"

#include "pg_schema.h"
#include "pg_session.h"
#include "postgres_state.h"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <utility>

namespace mkv {

using namespace pg;

namespace {

}  // namespace

std::string PostgresIndex::describe(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error) PQfreemem(error);
  if (!options) return "PostgreSQL";
  std::string host, port, db;
  for (auto* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string_view k = o->keyword;
    if (k == "host" || k == "hostaddr") host = host.empty() ? o->val : host;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
  }
  PQconninfoFree(options);
  if (host.empty()) host = "(local)";
  // Several hosts (failover) come as "h1,h2" with ports "p1,p2", or one port for every host:
  // name each host with its port.
  std::string where;
  std::size_t h = 0, p = 0;
  for (;;) {
    const std::size_t h_end = std::min(host.find(',', h), host.size());
    const std::size_t p_end = std::min(port.find(',', p), port.size());
    where += host.substr(h, h_end - h);
    if (!port.empty()) where += ":" + port.substr(p, p_end - p);
    if (h_end == host.size()) break;
    where += ',';
    h = h_end + 1;
    if (p_end < port.size()) p = p_end + 1;  // else the one port is every host's
  }
  return "PostgreSQL " + where + (db.empty() ? "" : "/" + db);
}

namespace {

std::string describe(const std::string& conninfo) { return PostgresIndex::describe(conninfo); }

// Runs body inside a transaction on conn that holds mkv's migration lock, committing if body
// succeeds and rolling back otherwise.
template <class Body>
Result<void> under_migration_lock(PGconn* conn, Body body) {
  if (auto ok = exec_script(conn, "begin", "BEGIN"); !ok) return ok.error();
  Params lock;
  lock.integer(control_lock_class).integer(migration_lock);
  auto locked =
      exec(conn, "take the migration lock", "SELECT pg_advisory_xact_lock($1::int4, $2::int4)", lock);
  Result<void> done = locked ? Result<void>() : Result<void>(locked.error());
  if (done) done = body();
  if (done) return exec_script(conn, "commit", "COMMIT");
  Rows undone(PQexec(conn, "ROLLBACK"));
  return done;
}

}  // namespace

Result<void> pg_store::migrate(const std::string& conninfo) {
  auto conn = connect(conninfo);
  if (!conn) return conn.error();
  PGconn* c = conn->get();
  return under_migration_lock(c, [&]() -> Result<void> {
    auto found = exec(c, "read the schema version",
                      "SELECT to_regclass('mkv_control.schema') IS NOT NULL");
    if (!found) return found.error();
    int version = 0;
    if (bool_at(found->get(), 0, 0)) {
      auto rows = exec(c, "read the schema version", "SELECT version FROM mkv_control.schema");
      if (!rows) return rows.error();
      if (PQntuples(rows->get()) != 1) {
        return Error::database("the schema version of " + describe(conninfo) + " is missing");
      }
      version = int4_at(rows->get(), 0, 0);
    }
    if (version > schema_version) {
      return Error::database(describe(conninfo) + " holds an index of schema version " +
                             std::to_string(version) + ", newer than this mkv's (" +
                             std::to_string(schema_version) + ")");
    }
    for (int v = version; v < schema_version; ++v) {
      const std::string step = migrations[v] + ";UPDATE mkv_control.schema SET version = " +
                               std::to_string(v + 1);
      if (auto ok = exec_script(c, "migrate the schema", step.c_str()); !ok) return ok.error();
    }
    return {};
  });
}

Result<PostgresIndex> PostgresIndex::open_schema(const std::string& conninfo,
                                                 const std::string& schema) {
  auto writer = open_session(conninfo, schema);
  if (!writer) return writer.error();
  std::random_device seed;
  const int shard = static_cast<int>(seed() % count_shards);
  char host[256] = {};
  (void)gethostname(host, sizeof host - 1);
  const std::string id = std::string(host) + ":" + std::to_string(getpid()) + ":" +
                         std::to_string(seed()) + ":";
  return PostgresIndex(std::make_unique<State>(conninfo, schema, std::move(*writer), shard, id));
}

bool PostgresIndex::exists(const std::string& conninfo) {
  auto conn = connect(conninfo);
  if (!conn) return false;
  auto rows = exec(conn->get(), "look for the index", "SELECT to_regclass('mkv.blobs') IS NOT NULL");
  return rows && PQntuples(rows->get()) == 1 && bool_at(rows->get(), 0, 0);
}

namespace {

// Claims the index on c for role (see PostgresIndex::claim) and names c's session after this
// process and role. Returns "" once it is claimed, else what says who holds it.
Result<std::string> claim_on(PGconn* c, const std::string& conninfo, std::string_view role) {
  const bool shared = role == "serve";
  Params lock;
  lock.integer(control_lock_class).integer(owner_lock);
  auto taken = exec(c, "claim the index",
                    shared ? "SELECT pg_try_advisory_lock_shared($1::int4, $2::int4)"
                           : "SELECT pg_try_advisory_lock($1::int4, $2::int4)",
                    lock);
  if (!taken) return taken.error();
  if (!bool_at(taken->get(), 0, 0)) {
    // Each holder's session names it (application_name), so the message needs no table.
    auto holders = exec(c, "name the index's holders",
                        "SELECT coalesce(string_agg(a.application_name, '; '), 'unknown')"
                        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                        " WHERE l.locktype = 'advisory' AND l.classid = $1::int4::oid"
                        " AND l.objid = $2::int4::oid AND l.objsubid = 2 AND l.granted",
                        lock);
    const std::string who = holders && PQntuples(holders->get()) == 1
                                ? bytes_at(holders->get(), 0, 0)
                                : std::string("unknown");
    return "index " + describe(conninfo) + " is in use by another mkv process (" + who + ")" +
           (shared ? "" : "; stop every mkv serve using it first");
  }
  char host[256] = {};
  (void)gethostname(host, sizeof host - 1);
  // PostgreSQL keeps 63 bytes of it; the pid and the role come first and last, so cut the host.
  std::string name = "pid " + std::to_string(getpid()) + " on " + host;
  const std::string role_text = ", " + std::string(role);
  name = name.substr(0, 63 - std::min<std::size_t>(63, role_text.size())) + role_text;
  Params me;
  me.text(name);
  auto named = exec(c, "name this holder", "SELECT set_config('application_name', $1::text, false)",
                    me);
  if (!named) return named.error();
  return std::string();
}

// Takes the lock that names a serve (see PostgresIndex::take_identity) on c; false if another
// session holds it.
Result<bool> lock_identity(PGconn* c, std::string_view name) {
  Params lock;
  lock.integer(identity_lock_class).text(name);
  auto taken = exec(c, "take this server's identity",
                    "SELECT pg_try_advisory_lock($1::int4, hashtext($2::text))", lock);
  if (!taken) return taken.error();
  return bool_at(taken->get(), 0, 0);
}

}  // namespace

Result<PostgresIndex::Ownership> PostgresIndex::claim(const std::string& conninfo,
                                                      std::string_view role) {
  // No schema is created here: a command that finds no index (exists()) must not be shown one.
  auto conn = connect(conninfo);
  if (!conn) return conn.error();
  auto claimed = claim_on(conn->get(), conninfo, role);
  if (!claimed) return claimed.error();
  if (!claimed->empty()) return Error::database(*claimed);
  return Ownership(std::move(*conn), conninfo, std::string(role));
}

Result<PostgresIndex::ClaimKept> PostgresIndex::keep_claim(Ownership& owner) {
  if (exec(owner.conn_.get(), "check the claim's session", "SELECT 1")) return ClaimKept{};
  auto conn = connect(owner.conninfo_);
  if (!conn) return conn.error();
  auto claimed = claim_on(conn->get(), owner.conninfo_, owner.role_);
  if (!claimed) return claimed.error();
  if (!claimed->empty()) return ClaimKept{false, *claimed};
  if (!owner.identity_.empty()) {
    // Nobody else can hold it (the name is this process's listening address), unless the old
    // session lingers on the database: then it goes when that session does.
    auto named = lock_identity(conn->get(), owner.identity_);
    if (!named) return named.error();
  }
  owner.conn_ = std::move(*conn);
  return ClaimKept{true, {}};
}

Result<bool> PostgresIndex::take_identity(Ownership& owner, std::string_view name) {
  PGconn* c = owner.conn_.get();
  auto taken = lock_identity(c, name);
  if (!taken) return taken.error();
  if (!*taken) return false;
  owner.identity_ = std::string(name);
  // Whoever had the name before is gone (its session released the lock): its leases and its
  // last commit mark are nobody's now.
  const std::string prefix = std::string(name) + "/";
  Params mine;
  mine.text(prefix);
  auto dropped = exec(c, "drop the leases of this server's earlier process",
                      "WITH l AS (DELETE FROM mkv_control.leases WHERE starts_with(owner, $1::text)"
                      " RETURNING 1) DELETE FROM mkv_control.commits"
                      " WHERE starts_with(token, $1::text)",
                      mine);
  if (!dropped) return dropped.error();
  std::random_device seed;
  state_->server_id = prefix + std::to_string(seed()) + ":";
  return true;
}

Result<PostgresIndex> PostgresIndex::open_replacement(const std::string& conninfo) {
  if (auto ok = pg_store::migrate(conninfo); !ok) return ok.error();
  auto conn = connect(conninfo);
  if (!conn) return conn.error();
  const std::string sql = std::string("DROP SCHEMA IF EXISTS ") + replacement_schema +
                          " CASCADE;" + content_schema_sql(replacement_schema);
  auto made = under_migration_lock(conn->get(), [&] {
    return exec_script(conn->get(), "create the replacement schema", sql.c_str());
  });
  if (!made) return made.error();
  return open_schema(conninfo, replacement_schema);
}

Result<void> PostgresIndex::replace(const std::string& conninfo, PostgresIndex&& replacement) {
  { PostgresIndex closing = std::move(replacement); }
  auto conn = connect(conninfo);
  if (!conn) return conn.error();
  PGconn* c = conn->get();
  return under_migration_lock(c, [&]() -> Result<void> {
    auto found = exec(c, "find the replacement", "SELECT to_regnamespace('mkv_rebuild') IS NOT NULL");
    if (!found) return found.error();
    if (!bool_at(found->get(), 0, 0)) {
      return Error::database("no replacement index in " + describe(conninfo));
    }
    return exec_script(c, "put the replacement in place",
                       "DROP SCHEMA IF EXISTS mkv CASCADE; ALTER SCHEMA mkv_rebuild RENAME TO mkv");
  });
}

Result<void> PostgresIndex::discard_replacement(const std::string& conninfo) {
  auto conn = connect(conninfo);
  if (!conn) return conn.error();
  return exec_script(conn->get(), "drop the replacement", "DROP SCHEMA IF EXISTS mkv_rebuild CASCADE");
}

Result<std::optional<std::string>> PostgresIndex::read_journal(std::string_view name) {
  auto session = state_->readers.borrow();
  if (!session) return session.error();
  Params p;
  p.text(name);
  auto rows = exec(session->get(), "read a journal",
                   "SELECT body FROM mkv_control.journals WHERE name = $1::text", p);
  if (!rows) return rows.error();
  if (PQntuples(rows->get()) == 0) return std::optional<std::string>();
  return std::optional<std::string>(bytes_at(rows->get(), 0, 0));
}

Result<void> PostgresIndex::write_journal(std::string_view name, std::string_view text) {
  auto session = state_->readers.borrow();
  if (!session) return session.error();
  Params p;
  p.text(name).bytes(text);
  auto rows = exec(session->get(), "write a journal",
                   "INSERT INTO mkv_control.journals VALUES ($1::text, $2::bytea)"
                   " ON CONFLICT (name) DO UPDATE SET body = excluded.body",
                   p);
  if (!rows) return rows.error();
  return {};
}

Result<void> PostgresIndex::remove_journal(std::string_view name) {
  auto session = state_->readers.borrow();
  if (!session) return session.error();
  Params p;
  p.text(name);
  auto rows =
      exec(session->get(), "remove a journal", "DELETE FROM mkv_control.journals WHERE name = $1::text", p);
  if (!rows) return rows.error();
  return {};
}

}  // namespace mkv
