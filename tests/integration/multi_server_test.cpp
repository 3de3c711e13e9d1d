// Several `mkv serve` processes on one shared index (PostgreSQL) behave as one server: what one
// stores every other serves, writes of one key are serialized across them (a lease per key in
// the database), the a vs a/b rule holds across them, a server that dies mid-write blocks its
// key only until its lease expires, acknowledged writes survive a database failover to a
// synchronous standby, and a server's claim on the index survives a restart or failover of
// the database.
//
// Only a shared index can be shared: on SQLite and LMDB each case says so and returns.
#include "harness.h"

#ifdef MKV_HAVE_POSTGRES_FIXTURE
#include "postgres_server.h"
#endif

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace mkv::test;
using Clock = std::chrono::steady_clock;

namespace {

// Returns true (after saying why) if the index under test cannot be shared between servers.
bool unshared_index() {
  if (index_on_server()) return false;
  MESSAGE("skipped: several servers need a shared index (MKV_INDEX=postgres); this build's is "
          << index_backend());
  return true;
}

// Returns the request target of key. (Appending, since GCC 12 warns, wrongly, about "/" + key.)
std::string target_of(std::string_view key) {
  std::string target = "/";
  target += key;
  return target;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Volumes and several `mkv serve` processes on one index: the same -d (a database on the
// harness's PostgreSQL server, or a URI given as is) and the same -v.
struct Servers {
  TempDir dir;
  std::vector<std::unique_ptr<Volume>> volumes;
  std::vector<std::unique_ptr<Server>> servers;

  // db: the index; empty for the database standing for dir/index.db.
  explicit Servers(std::size_t count, std::size_t volume_count = 3, unsigned replicas = 2,
                   std::string db = {}) {
    for (std::size_t i = 0; i < volume_count; ++i) volumes.push_back(std::make_unique<Volume>());
    if (db.empty()) db = (dir.path() / "index.db").string();
    for (std::size_t i = 0; i < count; ++i) {
      servers.push_back(std::make_unique<Server>(db, urls(), replicas));
    }
  }

  std::vector<std::string> urls() const {
    std::vector<std::string> out;
    for (const auto& v : volumes) out.push_back(v->url());
    return out;
  }

  std::uint16_t port(std::size_t server) const { return servers[server]->port(); }

  // Returns the blob of target as server serves it: its redirect, followed as a client would.
  std::string fetch(std::size_t server, std::string_view target) {
    const auto redirect = request(port(server), "GET", target);
    REQUIRE(redirect.status == 302);
    const auto blob = request_url(redirect.header("location"));
    REQUIRE(blob.status == 200);
    return blob.body;
  }

  // Returns the keys server lists under prefix.
  std::vector<std::string> list(std::size_t server, const std::string& prefix) {
    const auto res = request(port(server), "GET", "/?limit=10000&prefix=" + prefix);
    REQUIRE(res.status == 200);
    const auto page = boost::json::parse(res.body);  // outlives the loop over its keys
    std::vector<std::string> keys;
    for (const auto& key : page.at("keys").as_array()) {
      keys.emplace_back(key.as_string());
    }
    return keys;
  }

  // Returns the volumes holding a file at key (by index into volumes).
  std::vector<std::size_t> holders(std::string_view key) const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < volumes.size(); ++i) {
      if (volumes[i]->has(key)) out.push_back(i);
    }
    return out;
  }

  // Returns the staging files ("/.mkv/" paths) on any volume.
  std::vector<std::string> staging_files() const {
    std::vector<std::string> out;
    for (const auto& v : volumes) {
      for (const auto& f : v->files()) {
        if (f.starts_with(".mkv/") || f.find("/.mkv/") != std::string::npos) {
          out.push_back(v->url() + "/" + f);
        }
      }
    }
    return out;
  }

  // Checks that key is stored on `replicas` volumes with the same bytes, that every server
  // serves those bytes, and returns them.
  std::string agreed_value(std::string_view key, std::size_t replicas = 2) {
    const auto on = holders(key);
    REQUIRE(on.size() == replicas);
    const std::string bytes = volumes[on[0]]->read(key);
    for (auto v : on) CHECK(volumes[v]->read(key) == bytes);
    for (std::size_t s = 0; s < servers.size(); ++s) {
      if (servers[s]->pid() < 0) continue;
      CAPTURE(s);
      CHECK(fetch(s, target_of(key)) == bytes);
      const auto head = request(port(s), "HEAD", target_of(key));
      CHECK(head.header("content-length") == std::to_string(bytes.size()));
    }
    return bytes;
  }

  // Waits up to timeout for the staging files to go (an overwrite removes the copies it
  // replaced after answering); returns those left.
  std::vector<std::string> settled_staging(std::chrono::milliseconds timeout = 10s) const {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      auto left = staging_files();
      if (left.empty() || Clock::now() >= deadline) return left;
      std::this_thread::sleep_for(50ms);
    }
  }
};

#ifdef MKV_HAVE_POSTGRES_FIXTURE
// Returns the database name at the end of a postgresql:// URI.
std::string database_of(const std::string& uri) {
  auto name = uri.substr(uri.rfind('/') + 1);
  return name.substr(0, name.find('?'));
}
#endif

}  // namespace

TEST_CASE("two and three servers on one index serve each other's writes") {
  if (unshared_index()) return;
  for (std::size_t count : {2u, 3u}) {
    CAPTURE(count);
    Servers s(count);
    for (std::size_t writer = 0; writer < count; ++writer) {
      const std::string key = "/m/" + std::to_string(writer);
      const std::string body = "written through server " + std::to_string(writer);
      REQUIRE(request(s.port(writer), "PUT", key, body).status == 201);
      for (std::size_t reader = 0; reader < count; ++reader) {
        CAPTURE(reader);
        CHECK(s.fetch(reader, key) == body);
      }
    }
    // Listings come from the index, so every server lists the same keys.
    std::vector<std::string> expected;
    for (std::size_t writer = 0; writer < count; ++writer) {
      expected.push_back("m/" + std::to_string(writer));
    }
    for (std::size_t server = 0; server < count; ++server) CHECK(s.list(server, "m/") == expected);

    // A DELETE through one server is seen by every other at once.
    for (std::size_t writer = 0; writer < count; ++writer) {
      const std::string key = "/m/" + std::to_string(writer);
      const std::size_t deleter = (writer + 1) % count;
      REQUIRE(request(s.port(deleter), "DELETE", key).status == 204);
      for (std::size_t reader = 0; reader < count; ++reader) {
        CAPTURE(reader);
        CHECK(request(s.port(reader), "GET", key).status == 404);
      }
      CHECK(s.holders(key.substr(1)).empty());
    }
    for (std::size_t server = 0; server < count; ++server) CHECK(s.list(server, "m/").empty());
  }
}

TEST_CASE("concurrent PUTs of one key through three servers leave identical replicas") {
  if (unshared_index()) return;
  Servers s(3);
  constexpr int writers = 12;
  constexpr int rounds = 10;
  const auto body_of = [](int w, int r) {
    return std::string(20000 + w * 100 + r, static_cast<char>('A' + w));
  };
  std::set<std::string> bodies;
  for (int w = 0; w < writers; ++w) {
    for (int r = 0; r < rounds; ++r) bodies.insert(body_of(w, r));
  }
  REQUIRE(request(s.port(0), "PUT", "/hot", "first").status == 201);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      // Each writer talks to one server, so that every server has writers of the key at once.
      Connection conn(s.port(w % 3));
      for (int r = 0; r < rounds; ++r) {
        if (conn.request("PUT", "/hot", body_of(w, r)).status != 201) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  MESSAGE((writers * rounds) << " PUTs of one key through 3 servers took " << seconds_since(start)
                             << " s");
  CHECK(failures == 0);
  CHECK(bodies.contains(s.agreed_value("hot")));
  const auto left = s.settled_staging();
  CHECK_MESSAGE(left.empty(), "staging files left: " << left.size() << ", first "
                                                     << (left.empty() ? "" : left.front()));
}

TEST_CASE("racing PUTs of a key and its child through two servers never store both") {
  if (unshared_index()) return;
  Servers s(2);
  for (int attempt = 0; attempt < 12; ++attempt) {
    CAPTURE(attempt);
    const std::string parent = std::string("r").append(std::to_string(attempt)).append("/p");
    const std::string child = parent + "/q";
    // The parent goes to server 0 on even attempts and to server 1 on odd ones.
    const std::size_t parent_server = attempt % 2;
    std::atomic<bool> go{false};
    unsigned parent_status = 0, child_status = 0;
    std::thread parent_thread([&] {
      while (!go) {
      }
      parent_status =
          request(s.port(parent_server), "PUT", target_of(parent), std::string(200000, 'p')).status;
    });
    std::thread child_thread([&] {
      while (!go) {
      }
      child_status =
          request(s.port(1 - parent_server), "PUT", target_of(child), std::string(200000, 'q'))
              .status;
    });
    go = true;
    parent_thread.join();
    child_thread.join();
    CAPTURE(parent_status);
    CAPTURE(child_status);
    // Never both. Usually one wins; when each sees the other in flight, both are refused.
    CHECK_FALSE((parent_status == 201 && child_status == 201));
    CHECK((parent_status == 201 || parent_status == 409));
    CHECK((child_status == 201 || child_status == 409));
    std::vector<std::string> expected;
    if (parent_status == 201) expected.push_back(parent);
    if (child_status == 201) expected.push_back(child);
    CHECK(s.list(0, parent) == expected);
    CHECK(s.list(1, parent) == expected);
    CHECK(s.holders(parent).size() == (parent_status == 201 ? 2u : 0u));
    CHECK(s.holders(child).size() == (child_status == 201 ? 2u : 0u));
  }
}

TEST_CASE("create-only PUTs of one key sent to three servers at once: exactly one is created") {
  if (unshared_index()) return;
  Servers s(3);
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    const std::string key = "/once/" + std::to_string(round);
    std::atomic<int> ready{0};
    unsigned statuses[3] = {0, 0, 0};
    std::vector<std::thread> threads;
    for (std::size_t server = 0; server < 3; ++server) {
      threads.emplace_back([&, server] {
        Connection conn(s.port(server));
        ++ready;
        while (ready < 3) {
        }
        statuses[server] = conn.request("PUT", key, "by server " + std::to_string(server),
                                        {{"If-None-Match", "*"}})
                               .status;
      });
    }
    for (auto& t : threads) t.join();
    int created = 0;
    std::size_t winner = 0;
    for (std::size_t server = 0; server < 3; ++server) {
      CAPTURE(server);
      CAPTURE(statuses[server]);
      CHECK((statuses[server] == 201 || statuses[server] == 412));
      if (statuses[server] == 201) {
        ++created;
        winner = server;
      }
    }
    REQUIRE(created == 1);
    CHECK(s.agreed_value(key.substr(1)) == "by server " + std::to_string(winner));
  }
}

TEST_CASE("kill -9 of a server mid-write blocks its key only until the lease expires") {
  if (unshared_index()) return;
  Servers s(2);
  const std::string key = "slow";
  // An overwrite, so that the dying write is staged (a copy under /.mkv/) and the index holds
  // its intent: the later PUT must win over what the dead server left, not merely create.
  REQUIRE(request(s.port(0), "PUT", target_of(key), "before").status == 201);

  std::atomic<int> sent{0};
  std::atomic<bool> stop_sending{false};
  std::thread slow([&] {
    const std::string piece(16384, 'a');
    try {
      (void)request_chunked(s.port(0), "PUT", target_of(key), [&]() -> std::optional<std::string> {
        if (stop_sending || sent >= 600) return std::nullopt;
        std::this_thread::sleep_for(50ms);
        ++sent;
        return piece;
      });
    } catch (const std::exception&) {
      // The server died under it: the connection is reset.
    }
  });
  while (sent < 10) std::this_thread::sleep_for(10ms);
#ifdef MKV_HAVE_POSTGRES_FIXTURE
  // Server 0 has the key's lease while it streams the body.
  const std::string database = database_of(index_location(s.dir.path() / "index.db"));
  CHECK(shared_postgres().sql(database,
                              "SELECT count(*) FROM mkv_control.leases WHERE key = "
                              "'slow'::bytea AND expires > now()") == "1");
#endif
  s.servers[0]->kill9();
  const auto killed = Clock::now();
  stop_sending = true;
  slow.join();

  const std::string body = "written through server 1 after server 0 died";
  const auto put = request(s.port(1), "PUT", target_of(key), body, {}, 60s);
  const double waited = seconds_since(killed);
  MESSAGE("the PUT through server 1 was answered " << waited << " s after server 0 died");
  CHECK(put.status == 201);
  CHECK(waited < 35.0);
  CHECK(s.agreed_value(key) == body);

  // The dead server, started again, serves the new value too, and its start-up (which finishes
  // interrupted overwrites) does not undo it.
  s.servers[0]->start();
  CHECK(s.agreed_value(key) == body);
  CHECK(request(s.port(0), "PUT", target_of(key), "again through server 0").status == 201);
  CHECK(s.agreed_value(key) == "again through server 0");
}

TEST_CASE("a server claims the index again after a database restart: rebuild stays refused") {
  if (unshared_index()) return;
#ifndef MKV_HAVE_POSTGRES_FIXTURE
  MESSAGE(
      "skipped: the restart starts a PostgreSQL server of its own, and the test fixture "
      "(tests/support/postgres_server.h) was built without libpq");
#else
  // A database server of the test's own, not the shared one, since the test restarts it.
  PostgresServer database;
  database.create_database("mkv_claim");
  const std::string uri = database.uri("mkv_claim");
  Servers s(1, 3, 2, uri);
  REQUIRE(request(s.port(0), "PUT", "/before", "stored before the restart").status == 201);
  const auto rebuild = [&] {
    return run({"-d", uri, "-v", join_urls(s.urls()), "-r", "2", "rebuild"});
  };
  const auto before = rebuild();
  CHECK(before.exit_code == 1);
  CHECK(before.err.find("is in use by another mkv process") != std::string::npos);

  // The restart ends every session, and the serve's claim (a session lock) with it.
  database.stop();
  database.start();
  const auto restarted = Clock::now();
  while (s.servers[0]->log().find("claimed the index again") == std::string::npos) {
    REQUIRE_MESSAGE(seconds_since(restarted) < 10, s.servers[0]->log());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  MESSAGE("claimed again " << seconds_since(restarted) << " s after the restart");
  const auto after = rebuild();
  CHECK(after.exit_code == 1);
  CHECK(after.err.find("is in use by another mkv process") != std::string::npos);
  // And it serves on: reads and writes reach the database again.
  unsigned status = 0;
  while ((status = request(s.port(0), "PUT", "/after", "stored after it").status) != 201 &&
         seconds_since(restarted) < 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(status == 201);
  CHECK(request(s.port(0), "GET", "/before").status == 302);
#endif
}

TEST_CASE("failover to a synchronous standby loses no acknowledged write") {
  if (unshared_index()) return;
#ifndef MKV_HAVE_POSTGRES_FIXTURE
  MESSAGE(
      "skipped: the failover drill starts PostgreSQL servers of its own, and the test "
      "fixture (tests/support/postgres_server.h) was built without libpq");
#else
  // A database server of the test's own, not the shared one, since the test takes it down.
  PostgresServer primary;
  const std::string database = "mkv_failover";
  primary.create_database(database);
  auto standby = PostgresServer::standby_of(primary);
  // After the copy, so that the promoted standby does not wait for a standby of its own.
  primary.sql("postgres", "ALTER SYSTEM SET synchronous_standby_names = '*'");
  primary.sql("postgres", "ALTER SYSTEM SET synchronous_commit = on");
  primary.sql("postgres", "SELECT pg_reload_conf()");
  const auto deadline = Clock::now() + 20s;
  while (primary.sql("postgres", "SELECT sync_state FROM pg_stat_replication") != "sync") {
    REQUIRE(Clock::now() < deadline);
    std::this_thread::sleep_for(20ms);
  }
  // libpq tries the hosts in order and keeps the one that accepts writes.
  const std::string uri = "postgresql://mkv@127.0.0.1:" + std::to_string(primary.port()) +
                          ",127.0.0.1:" + std::to_string(standby->port()) + "/" + database +
                          "?target_session_attrs=read-write&connect_timeout=5";
  Servers s(2, 3, 2, uri);

  struct Write {
    std::string key;
    std::string body;
    unsigned status;  // 0: no answer (the connection failed)
    Clock::time_point sent;
  };
  std::mutex mutex;
  std::vector<Write> writes;                        // in the order they were answered
  std::optional<Clock::time_point> crashed;         // once the primary's processes are gone
  std::optional<Clock::time_point> writable_again;  // the first PUT sent after that acknowledged
  std::atomic<int> acknowledged{0};
  std::atomic<bool> promoted{false};
  std::atomic<bool> done{false};
  // Three writers per server, so that the crash finds writes at every step: taking the lease,
  // streaming to the volumes, committing. Most keys are new; every fourth write overwrites the
  // writer's own "hot" key, a staged write with an intent in the index.
  constexpr int writer_count = 6;
  std::vector<std::thread> writers;
  for (int writer = 0; writer < writer_count; ++writer) {
    writers.emplace_back([&, writer] {
      const std::size_t server = writer % 2;
      const std::string name = std::to_string(writer);
      int in_a_row_after = 0;  // acknowledged writes in a row since the promotion
      for (int n = 0; !done; ++n) {
        const std::string key =
            n % 4 == 3 ? "fo/hot/" + name : "fo/" + name + "/" + std::to_string(n);
        const std::string body =
            "write " + std::to_string(n) + " of writer " + name + std::string(n % 7 * 3000, '.');
        unsigned status = 0;
        const auto sent = Clock::now();
        try {
          status = request(s.port(server), "PUT", target_of(key), body, {}, 20s).status;
        } catch (const std::exception&) {
        }
        {
          std::lock_guard lock(mutex);
          writes.push_back({key, body, status, sent});
          // Sent after the crash: it needed the promoted standby.
          if (status == 201 && crashed && sent > *crashed && !writable_again) {
            writable_again = Clock::now();
          }
        }
        if (status == 201) ++acknowledged;
        if (promoted) {
          in_a_row_after = status == 201 ? in_a_row_after + 1 : 0;
          if (in_a_row_after == 10) return;
        }
        if (status != 201) std::this_thread::sleep_for(20ms);
      }
    });
  }
  while (acknowledged < 100) std::this_thread::sleep_for(5ms);
  std::size_t before_failover = 0;
  {
    std::lock_guard lock(mutex);
    before_failover = writes.size();
  }
  // A crash, not a clean stop: the standby has what the primary acknowledged, nothing more.
  primary.kill9();
  {
    std::lock_guard lock(mutex);
    crashed = Clock::now();
  }
  std::this_thread::sleep_for(300ms);  // writes meanwhile reach no writable database
  standby->promote();
  promoted = true;
  const auto stop_at = Clock::now() + 60s;
  std::thread watchdog([&] {
    while (!done && Clock::now() < stop_at) std::this_thread::sleep_for(10ms);
    done = true;
  });
  for (auto& t : writers) t.join();
  const bool recovered = !done;
  done = true;
  watchdog.join();
  REQUIRE_MESSAGE(recovered, "writes did not succeed again within 60 s of the promotion");

  std::map<unsigned, int> statuses;
  for (const auto& w : writes) statuses[w.status] += 1;
  for (const auto& [status, count] : statuses) MESSAGE(count << " PUTs answered " << status);
  MESSAGE("the first PUT sent after the crash was acknowledged "
          << std::chrono::duration<double>(*writable_again - *crashed).count()
          << " s after it (0.3 s of it before the promotion)");
  for (std::size_t i = 0; i < before_failover; ++i) CHECK(writes[i].status == 201);

  // Each key's writes, in order (one writer writes each key, one write at a time).
  std::map<std::string, std::vector<const Write*>> by_key;
  for (const auto& w : writes) {
    CAPTURE(w.key);
    CHECK((w.status == 201 || w.status == 500 || w.status == 0));
    by_key[w.key].push_back(&w);
  }
  int stray = 0, dangling = 0;
  for (const auto& [key, history] : by_key) {
    CAPTURE(key);
    std::string statuses_in_order;  // what each write of key was answered, oldest first
    for (const Write* w : history) statuses_in_order += std::to_string(w->status) + " ";
    CAPTURE(statuses_in_order);
    // The value is that of the last acknowledged write, or of an unacknowledged one after it
    // (which may or may not have happened); none at all only if no write was acknowledged.
    std::set<std::string> allowed;
    for (const Write* w : history) {
      if (w->status == 201) allowed.clear();
      allowed.insert(w->body);
    }
    const bool any_acknowledged = std::any_of(history.begin(), history.end(),
                                              [](const Write* w) { return w->status == 201; });
    const auto res = request(s.port(0), "GET", target_of(key));
    if (!any_acknowledged && res.status == 404) {
      stray += !s.holders(key).empty();  // copies of a failed write, left for gc
      continue;
    }
    REQUIRE(res.status == 302);
    // A PUT whose COMMIT reached the standby while the primary died before answering must be
    // settled as committed (its copies kept), never taken for a rollback that deletes them:
    // the index would name a blob no volume holds.
    if (!any_acknowledged && s.holders(key).empty()) {
      ++dangling;
      CHECK_MESSAGE(false, "unacknowledged PUT of " << key << " is indexed, but no volume holds it");
      continue;
    }
    CHECK(allowed.contains(s.agreed_value(key)));
  }
  MESSAGE(by_key.size() << " keys checked; " << stray
                        << " unacknowledged new keys left copies on the volumes; " << dangling
                        << " unacknowledged keys indexed without copies");

  // The promoted standby never had the servers' claims (session locks): each takes its claim
  // again, so an offline job is refused there too.
  const auto promoted_at = Clock::now();
  for (const auto& server : s.servers) {
    while (server->log().find("claimed the index again") == std::string::npos) {
      REQUIRE_MESSAGE(seconds_since(promoted_at) < 10, server->log());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const auto rebuild = run({"-d", uri, "-v", join_urls(s.urls()), "-r", "2", "rebuild"});
  CHECK(rebuild.exit_code == 1);
  CHECK(rebuild.err.find("is in use by another mkv process") != std::string::npos);
#endif
}
