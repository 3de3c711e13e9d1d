// The process: command line, one serve per index, graceful stop, and durability across restarts.
#include "cluster.h"

#include <csignal>
#include <string>

using namespace mkv::test;

TEST_CASE("--help and --version answer without a database") {
  const auto help = run({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("serve") != std::string::npos);
  const auto serve_help = run({"serve", "--help"});
  CHECK(serve_help.exit_code == 0);
  CHECK(serve_help.out.find("--port") != std::string::npos);
  const auto version = run({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.starts_with("mkv "));
}

TEST_CASE("bad command lines are refused with a message") {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"-d", "/tmp/x.db", "-v", "http://127.0.0.1:1", "serve"}, "missing --replicas"},
      {{"-v", "http://127.0.0.1:1", "-r", "1", "serve"}, "missing --db"},
      {{"-d", "/tmp/x.db", "-v", "ftp://h", "-r", "1", "serve"}, "only http:// volumes"},
      {{"-d", "/tmp/x.db", "-v", "http://a:1", "-r", "0", "serve"}, "at least 1"},
      {{"-d", "/tmp/x.db", "-v", "http://a:1", "-r", "1", "bogus"}, "unknown command bogus"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.says);
    const auto r = run(c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.says) != std::string::npos);
  }
}

TEST_CASE("a second serve on the same index refuses with a clear message") {
  Cluster c;
  if (index_on_server()) {
    // A database index is shared: any number of serve processes may hold it at once.
    MESSAGE("the " << index_backend() << " index is shared: a second serve runs beside the first");
    Server second(c.db(), c.urls(), 2);
    REQUIRE(c.put("/shared", "by the first").status == 201);
    CHECK(request(second.port(), "GET", "/shared").status == 302);
    CHECK(request(second.port(), "PUT", "/second", "by the second").status == 201);
    CHECK(c.fetch("/second") == "by the second");
    return;
  }
  const auto second = run({"-d", c.db().string(), "-v", join_urls(c.urls()), "-r", "2", "serve",
                           "-p", std::to_string(free_port()), "--bind", "127.0.0.1"},
                          10s);
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("is in use by another mkv process") != std::string::npos);
  CHECK(second.err.find("serve") != std::string::npos);
  CHECK(c.put("/still", "served").status == 201);
}

TEST_CASE("SIGTERM stops serve cleanly and the index survives a restart") {
  Cluster c;
  for (int i = 0; i < 20; ++i) REQUIRE(c.put("/d/" + std::to_string(i), std::to_string(i)).status == 201);
  CHECK(c.server->stop() == 0);
  CHECK(c.server->log().find("stopped") != std::string::npos);
  c.server->start();
  for (int i = 0; i < 20; ++i) CHECK(c.fetch("/d/" + std::to_string(i)) == std::to_string(i));
}

TEST_CASE("acknowledged writes survive kill -9 of serve") {
  Cluster c;
  for (int i = 0; i < 50; ++i) REQUIRE(c.put("/k9/" + std::to_string(i), "v" + std::to_string(i)).status == 201);
  c.server->kill9();
  c.server->start();
  for (int i = 0; i < 50; ++i) CHECK(c.fetch("/k9/" + std::to_string(i)) == "v" + std::to_string(i));
}
