// The throwaway PostgreSQL fixture: it starts, runs SQL, keeps its data over a restart and a
// kill -9, runs beside another server, and leaves neither a process nor a directory behind.
// Where PostgreSQL cannot be started, each case says why and passes without checking.
#include "postgres_server.h"

#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>

using namespace mkv::test;
namespace fs = std::filesystem;

namespace {

// Returns true (after saying why) if this machine cannot run PostgreSQL.
bool unavailable() {
  const std::string why = postgres_unavailable();
  if (why.empty()) return false;
  MESSAGE("skipped: " << why);
  return true;
}

bool accepts(const PostgresServer& server) {
  return PQping((server.uri("postgres") + "?connect_timeout=2").c_str()) == PQPING_OK;
}

// Returns the live (not zombie) processes whose parent is `parent`.
std::vector<int> children_of(int parent) {
  std::vector<int> children;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(text.substr(paren + 1));
    char state = '?';
    int ppid = 0;
    if (fields >> state >> ppid && ppid == parent && state != 'Z') {
      children.push_back(std::stoi(name));
    }
  }
  return children;
}

// Returns whether pid is gone (or a zombie).
bool gone(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  return paren == std::string::npos || text.substr(paren + 2, 1) == "Z";
}

bool all_gone(const std::vector<int>& pids) {
  return std::all_of(pids.begin(), pids.end(), gone);
}

}  // namespace

TEST_CASE("a server starts, answers on its port and runs SQL") {
  if (unavailable()) return;
  const auto started = std::chrono::steady_clock::now();
  PostgresServer pg;
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  MESSAGE("started in " << took.count() << " ms");

  CHECK(pg.port() != 0);
  CHECK(pg.pid() > 0);
  CHECK(accepts(pg));
  CHECK(pg.uri("db1") == "postgresql://mkv@127.0.0.1:" + std::to_string(pg.port()) + "/db1");
  CHECK(fs::exists(pg.data_dir() / "PG_VERSION"));

  pg.create_database("db1");
  pg.create_database("db1");  // a second time is no error
  CHECK(pg.sql("db1", "SELECT current_user, current_database()") == "mkv|db1");
  CHECK(pg.sql("db1", "CREATE TABLE t (k text PRIMARY KEY, v bytea)").empty());
  CHECK(pg.sql("db1", "INSERT INTO t VALUES ('b', NULL), ('a', '\\x01ff')").empty());
  CHECK(pg.sql("db1", "SELECT k, v FROM t ORDER BY k") == "a|\\x01ff\nb|");
  CHECK(pg.sql("db1", "SELECT 1; SELECT 2") == "2");  // the last statement's rows
  CHECK(pg.sql("db1", "SELECT k FROM t WHERE false").empty());
  // Byte order, as the index needs for prefix listing (initdb --locale=C.UTF-8).
  CHECK(pg.sql("db1",
               "SELECT string_agg(x, ',' ORDER BY x) FROM "
               "(VALUES ('a'), ('B'), ('é'), ('a/b'), ('a0')) AS v(x)") == "B,a,a/b,a0,é");

  CHECK_THROWS_WITH_AS(pg.sql("db1", "SELEC 1"), doctest::Contains("syntax error"),
                       std::runtime_error);
  CHECK_THROWS_AS(pg.sql("no_such_db", "SELECT 1"), std::runtime_error);

  pg.drop_database("db1");
  pg.drop_database("db1");  // gone already: no error
  CHECK_THROWS_AS(pg.sql("db1", "SELECT 1"), std::runtime_error);
}

TEST_CASE("drop_database ends the database's open connections") {
  if (unavailable()) return;
  PostgresServer pg;
  pg.create_database("busy");
  PGconn* conn = PQconnectdb(pg.uri("busy").c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  pg.drop_database("busy");
  PQfinish(conn);
  CHECK(pg.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'busy'") == "0");
}

TEST_CASE("a restart keeps the port and the data; so does a kill -9") {
  if (unavailable()) return;
  PostgresServer pg;
  const auto port = pg.port();
  pg.create_database("kept");
  pg.sql("kept", "CREATE TABLE t (n int); INSERT INTO t VALUES (7)");

  pg.stop();
  CHECK(pg.pid() == -1);
  CHECK_FALSE(accepts(pg));
  CHECK_THROWS_AS(pg.sql("kept", "SELECT 1"), std::runtime_error);
  pg.stop();  // stopped already: nothing to do

  pg.start();
  CHECK(pg.port() == port);
  CHECK(pg.sql("kept", "SELECT n FROM t") == "7");

  pg.sql("kept", "INSERT INTO t VALUES (8)");
  const int old_pid = pg.pid();
  const auto backends = children_of(old_pid);
  CHECK(!backends.empty());
  pg.kill9();
  CHECK(gone(old_pid));
  CHECK(all_gone(backends));
  CHECK_FALSE(accepts(pg));
  pg.start();  // crash recovery
  CHECK(pg.sql("kept", "SELECT string_agg(n::text, ',' ORDER BY n) FROM t") == "7,8");
}

TEST_CASE("two servers run at once on different ports with their own data") {
  if (unavailable()) return;
  PostgresServer one;
  PostgresServer two;
  CHECK(one.port() != two.port());
  CHECK(one.data_dir() != two.data_dir());
  one.create_database("only_one");
  CHECK(one.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'only_one'") == "1");
  CHECK(two.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'only_one'") == "0");
  two.stop();
  CHECK(accepts(one));
}

TEST_CASE("the destructor leaves no process and no directory behind") {
  if (unavailable()) return;
  int pid = -1;
  std::vector<int> backends;
  fs::path dir;
  {
    PostgresServer pg;
    pid = pg.pid();
    dir = pg.data_dir().parent_path();
    // A client connection keeps a backend busy; a fast shutdown must still end it.
    pg.create_database("open");
    PGconn* conn = PQconnectdb(pg.uri("open").c_str());
    REQUIRE(PQstatus(conn) == CONNECTION_OK);
    backends = children_of(pid);
    CHECK(backends.size() > 1);  // the checkpointer, the writers... and the client's backend
    PQfinish(conn);
  }
  CHECK(gone(pid));
  CHECK(all_gone(backends));
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("shared_postgres is one server per process, and outlives the thread that made it") {
  if (unavailable()) return;
  PostgresServer* from_thread = nullptr;
  std::thread([&] { from_thread = &shared_postgres(); }).join();
  PostgresServer& shared = shared_postgres();
  CHECK(&shared == from_thread);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a death signal would land
  CHECK(accepts(shared));
  shared.create_database("shared");
  CHECK(shared.sql("shared", "SELECT 40 + 2") == "42");
}
