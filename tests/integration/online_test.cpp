// Operations while serving, on real nginx volumes: the admin listener and its /metrics (parsed
// line by line), and `mkv verify --repair` handed to the running serve while clients keep
// writing, reading (redirects followed) and deleting, every answer checked; Ctrl-C on the CLI
// stopping the job at a safe point; a second job refused while one runs.
#include "cluster.h"

#include "mkv/placement.h"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace mkv::test;

namespace {

// A value of size bytes that differs per seed.
std::string value_of(std::size_t size, unsigned seed) {
  std::string value(size, '\0');
  for (std::size_t i = 0; i < size; ++i) value[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return value;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> mkv_args(const Cluster& c, std::vector<std::string> command) {
  std::vector<std::string> args = {"-d", c.db().string(), "-v", join_urls(c.urls()), "-r", "2"};
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

std::vector<std::string> topology_args(const Cluster& c, const std::vector<std::string>& urls,
                                       unsigned replicas, std::vector<std::string> command) {
  std::vector<std::string> args = {"-d", c.db().string(), "-v", join_urls(urls), "-r",
                                   std::to_string(replicas)};
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

// Returns the admin port the running server recorded for its index.
std::uint16_t admin_port(const Cluster& c) {
  const std::string line = recorded_admin_address(c.db());
  REQUIRE(!line.empty());
  REQUIRE(line.rfind("127.0.0.1:", 0) == 0);
  return static_cast<std::uint16_t>(std::stoul(line.substr(line.find(':') + 1)));
}

// Parses a Prometheus text exposition into "name{labels}" -> value, checking every line's form.
std::map<std::string, double> parse_metrics(const std::string& text) {
  static const std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (\S+))");
  static const std::regex comment(R"(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+)");
  std::map<std::string, double> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    REQUIRE(end != std::string::npos);  // every line ends with a newline
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    std::smatch m;
    if (line.starts_with("#")) {
      CHECK_MESSAGE(std::regex_match(line, comment), line);
      continue;
    }
    REQUIRE_MESSAGE(std::regex_match(line, m, sample), line);
    out[m[1].str()] = std::stod(m[3].str());
  }
  return out;
}

// Clients writing, reading (following the redirect) and deleting their own keys until stop,
// counting every answer that is not the one expected.
struct Load {
  std::atomic<bool> stop{false};
  std::atomic<unsigned> operations{0};
  std::atomic<unsigned> failures{0};
  std::vector<std::string> problems;  // the first few, for the test's output
  std::mutex mutex;
  std::vector<std::thread> clients;

  Load(Cluster& c, unsigned count) {
    for (unsigned t = 0; t < count; ++t) {
      clients.emplace_back([this, &c, t] {
        for (unsigned i = 0; !stop; ++i) {
          const std::string key = "/load/" + std::to_string(t) + "/" + std::to_string(i % 7);
          const std::string value = value_of(2000 + i % 5000, i);
          check(c.put(key, value).status == 201, "PUT " + key);
          const auto redirect = c.get(key);
          check(redirect.status == 302, "GET " + key);
          if (redirect.status == 302) {
            const auto blob = request_url(redirect.header("location"));
            check(blob.status == 200 && blob.body == value, "GET (followed) " + key);
          }
          if (i % 3 == 0) check(c.del(key).status == 204, "DELETE " + key);
          operations += 1;
        }
      });
    }
  }
  ~Load() { finish(); }

  void check(bool ok, const std::string& what) {
    if (ok) return;
    failures += 1;
    std::lock_guard lock(mutex);
    if (problems.size() < 5) problems.push_back(what);
  }

  void finish() {
    stop = true;
    for (auto& t : clients) {
      if (t.joinable()) t.join();
    }
  }
};

}  // namespace

TEST_CASE("the admin listener answers /metrics in the Prometheus text format") {
  Cluster c;
  const unsigned puts = 12;
  std::uint64_t bytes = 0;
  for (unsigned i = 0; i < puts; ++i) {
    const std::string value = value_of(1000 + i, i);
    bytes += value.size();
    REQUIRE(c.put("/m/" + std::to_string(i), value).status == 201);
  }
  for (unsigned i = 0; i < 5; ++i) CHECK(c.get("/m/" + std::to_string(i)).status == 302);
  CHECK(c.get("/absent").status == 404);
  CHECK(c.del("/m/0").status == 204);

  const std::uint16_t admin = admin_port(c);
  const auto answer = request(admin, "GET", "/metrics");
  REQUIRE(answer.status == 200);
  CHECK(contains(answer.header("content-type"), "text/plain; version=0.0.4"));
  const auto m = parse_metrics(answer.body);
  CHECK(m.at(R"(mkv_requests_total{method="PUT",status="201"})") == puts);
  CHECK(m.at(R"(mkv_requests_total{method="GET",status="302"})") == 5);
  CHECK(m.at(R"(mkv_requests_total{method="GET",status="404"})") == 1);
  CHECK(m.at(R"(mkv_requests_total{method="DELETE",status="204"})") == 1);
  CHECK(m.at(R"(mkv_request_duration_seconds_count{method="PUT"})") == puts);
  CHECK(m.at(R"(mkv_request_duration_seconds_bucket{method="PUT",le="+Inf"})") == puts);
  CHECK(m.at(R"(mkv_request_duration_seconds_sum{method="PUT"})") > 0);
  CHECK(m.at("mkv_received_bytes_total") == static_cast<double>(bytes));
  for (const auto& url : c.urls()) {
    CHECK(m.at(R"(mkv_volume_up{volume=")" + url + R"(",state="up"})") == 1);
    CHECK(m.at(R"(mkv_volume_up{volume=")" + url + R"(",state="down"})") == 0);
    CHECK(m.at(R"(mkv_volume_requests_total{volume=")" + url + R"(",outcome="answered"})") > 0);
  }
  CHECK(m.at(R"(mkv_volumes_configured{what="volumes"})") == 3);
  CHECK(m.at(R"(mkv_volumes_configured{what="replicas"})") == 2);
  CHECK(m.at(R"(mkv_job_running{job="verify"})") == 0);
  CHECK(m.at("mkv_index_keys") == puts - 1);  // one of them deleted
  CHECK(m.at("mkv_repair_backlog_keys") == 0);

  // A volume stopped shows as down once the probes notice.
  c.volumes[2]->stop();
  const std::string down = R"(mkv_volume_up{volume=")" + c.volumes[2]->url() +
                           R"(",state="down"})";
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  double state = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    state = parse_metrics(request(admin, "GET", "/metrics").body).at(down);
    if (state == 1) break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(state == 1);

  // What the admin listener refuses; and the public port never starts a job.
  CHECK(request(admin, "POST", "/metrics").status == 405);
  CHECK(request(admin, "GET", "/jobs/verify").status == 405);
  CHECK(request(admin, "POST", "/jobs/rebuild").status == 404);
  const auto bad = request(admin, "POST", "/jobs/verify?concurrency=0");
  CHECK(bad.status == 400);
  CHECK(contains(bad.body, "concurrency must be a whole number"));
  CHECK(c.get("/metrics").status == 404);
  CHECK(request(c.port(), "POST", "/jobs/verify").status == 405);
}

TEST_CASE("verify --repair runs inside the serve while clients keep working") {
  Cluster c;
  std::map<std::string, std::string> values;
  for (unsigned i = 0; i < 60; ++i) {
    const std::string key = "v/" + std::to_string(i);
    values[key] = value_of(3000 + i * 611, i);
    REQUIRE(c.put("/" + key, values[key]).status == 201);
  }
  // One copy corrupted (same size), one deleted.
  const auto second_holder = [&](const std::string& key) {
    const auto holders = c.holders(key);
    REQUIRE(holders.size() == 2);
    return c.volumes[holders[1]].get();
  };
  Volume* flipped = second_holder("v/7");
  std::string bytes = flipped->read("v/7");
  bytes[bytes.size() / 3] ^= 0x20;
  flipped->write("v/7", bytes);
  Volume* emptied = second_holder("v/41");
  std::filesystem::remove(emptied->data_dir() / "v/41");

  Load load(c, 3);
  std::this_thread::sleep_for(300ms);
  const auto found = run(mkv_args(c, {"verify"}));
  INFO(found.err);
  CHECK(found.exit_code == 1);
  CHECK(contains(found.err, "running the job inside it"));
  CHECK(contains(found.err, "verify: v/7 on " + flipped->url() + ": corrupt"));
  CHECK(contains(found.err, "verify: v/41 on " + emptied->url() + ": missing"));
  CHECK(flipped->read("v/7") == bytes);  // without --repair nothing changes

  const auto repaired = run(mkv_args(c, {"verify", "--repair", "--prefix", "v/"}));
  INFO(repaired.err);
  CHECK(repaired.exit_code == 0);
  CHECK(contains(repaired.err, "checked 60 keys, 120 copies"));
  CHECK(contains(repaired.err, "repaired: 2\n"));
  CHECK(contains(repaired.err, "every copy is good again"));
  CHECK(flipped->read("v/7") == values["v/7"]);
  CHECK(emptied->read("v/41") == values["v/41"]);

  // The whole store, load keys included (rewritten while checked at most, never damaged).
  const auto all = run(mkv_args(c, {"verify"}));
  INFO(all.err);
  CHECK(all.exit_code == 0);
  load.finish();
  const std::string first_problem = load.problems.empty() ? "none" : load.problems.front();
  INFO(first_problem);
  CHECK(load.failures == 0);
  CHECK(load.operations > 10);
  for (const auto& [key, value] : values) CHECK(c.fetch("/" + key) == value);

  const auto m = parse_metrics(request(admin_port(c), "GET", "/metrics").body);
  CHECK(m.at(R"(mkv_job_runs_total{job="verify"})") == 3);
  CHECK(m.at(R"(mkv_job_running{job="verify"})") == 0);

  // A serve killed with -9 leaves its admin address behind: the next verify runs offline.
  c.server->kill9();
  const auto offline = run(mkv_args(c, {"verify"}));
  INFO(offline.err);
  CHECK_FALSE(contains(offline.err, "running the job inside it"));
  CHECK(offline.exit_code == 0);
}

TEST_CASE("Ctrl-C stops an online verify at a safe point; a second job is refused meanwhile") {
  Cluster c;
  for (unsigned i = 0; i < 30; ++i) {
    REQUIRE(c.put("/slow/" + std::to_string(i), value_of(100'000, i)).status == 201);
  }
  const std::uint16_t admin = admin_port(c);
  // 0.1 MB/s, one key at a time: a key's two copies take about 2 s, the whole job a minute.
  // (--foreground: the signal goes to mkv alone, once, as a terminal sends it.)
  std::vector<std::string> command = {"--foreground", "--preserve-status", "-s", "INT", "2",
                                      mkv_binary()};
  for (auto& a : index_args(mkv_args(c, {"verify", "--rate", "0.1", "--concurrency", "1"}))) {
    command.push_back(a);
  }
  RunResult stopped;
  const auto started = std::chrono::steady_clock::now();
  std::thread cli([&] { stopped = run_program("/usr/bin/timeout", command, 60s); });
  std::this_thread::sleep_for(1s);
  const auto busy = request(admin, "POST", "/jobs/verify");
  CHECK(busy.status == 409);
  CHECK(contains(busy.body, "busy: a verify job is running on this server"));
  const auto m = parse_metrics(request(admin, "GET", "/metrics").body);
  CHECK(m.at(R"(mkv_job_running{job="verify"})") == 1);
  cli.join();
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(stopped.err);
  CHECK(stopped.exit_code == 1);
  CHECK(contains(stopped.err, "asking the server to stop the job at a safe point"));
  CHECK(contains(stopped.err, "verify: stopped before the end"));
  CHECK(contains(stopped.err, "verify: checked "));
  CHECK(took < 20s);
  // The server goes on serving, and takes the next job.
  CHECK(c.get("/slow/1").status == 302);
  const auto again = run(mkv_args(c, {"verify", "--prefix", "slow/2"}));
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(contains(again.err, "checked 11 keys"));
}

namespace {

// Checks that every key of values reads back whole through the server and is held by exactly
// the volumes of its placement among urls (r of them), and that no other file is left on any
// volume of c under prefix.
void check_placed(Cluster& c, const std::map<std::string, std::string>& values,
                  const std::vector<std::string>& urls, unsigned replicas) {
  std::size_t files = 0;
  for (const auto& v : c.volumes) {
    for (const auto& f : v->files()) files += f.rfind("p/", 0) == 0 ? 1 : 0;
  }
  CHECK(files == values.size() * replicas);
  for (const auto& [key, value] : values) {
    CAPTURE(key);
    CHECK(c.fetch("/" + key) == value);
    const auto want = mkv::volumes_for_key(key, urls, replicas).value();
    std::vector<std::string> held;
    for (const auto i : c.holders(key)) held.push_back(c.volumes[i]->url());
    std::sort(held.begin(), held.end());
    std::vector<std::string> placed(want.begin(), want.end());
    std::sort(placed.begin(), placed.end());
    CHECK(held == placed);
  }
}

}  // namespace

TEST_CASE("online rebalance: add a volume, remove one, change r, while clients keep working") {
  Cluster c;
  std::map<std::string, std::string> values;
  for (unsigned i = 0; i < 150; ++i) {
    const std::string key = "p/" + std::to_string(i);
    values[key] = value_of(1500 + i * 37, i);
    REQUIRE(c.put("/" + key, values[key]).status == 201);
  }
  c.volumes.push_back(std::make_unique<Volume>());
  Load load(c, 3);

  const auto four = c.urls();
  const auto added = run(topology_args(c, four, 2, {"rebalance", "--grace", "1"}));
  INFO(added.err);
  CHECK(added.exit_code == 0);
  CHECK(contains(added.err, "running the job inside it"));
  CHECK(contains(added.err, "every key is on its placement"));
  check_placed(c, values, four, 2);
  CHECK_FALSE(contains(c.server->log(), "warning: the last rebalance placed"));
  const auto m = parse_metrics(request(admin_port(c), "GET", "/metrics").body);
  CHECK(m.at(R"(mkv_volumes_configured{what="volumes"})") == 4);
  CHECK(m.at(R"(mkv_job_fixed{job="rebalance"})") > 0);

  // The dry run against the same set plans nothing; its plan goes to stdout.
  const auto planned = run(topology_args(c, four, 2, {"rebalance", "--dry-run"}));
  INFO(planned.out);
  CHECK(planned.exit_code == 0);
  CHECK(contains(planned.out, "nothing to do: every key is on its placement"));

  // The first volume leaves: it stays readable until its last key has moved.
  const std::vector<std::string> three(four.begin() + 1, four.end());
  const auto removed = run(topology_args(c, three, 2, {"rebalance", "--grace", "0"}));
  INFO(removed.err);
  CHECK(removed.exit_code == 0);
  check_placed(c, values, three, 2);

  // Three copies of everything.
  const auto more = run(topology_args(c, three, 3, {"rebalance", "--grace", "0"}));
  INFO(more.err);
  CHECK(more.exit_code == 0);
  check_placed(c, values, three, 3);

  load.finish();
  const std::string first_problem = load.problems.empty() ? "none" : load.problems.front();
  INFO(first_problem);
  CHECK(load.failures == 0);
  CHECK(load.operations > 10);
}

TEST_CASE("replace a dead volume online: rebalance onto a new volume in its place") {
  Cluster c(3, 2, {"--write-fallback"});
  std::map<std::string, std::string> values;
  for (unsigned i = 0; i < 60; ++i) {
    const std::string key = "p/" + std::to_string(i);
    values[key] = value_of(1000 + i * 53, i);
    REQUIRE(c.put("/" + key, values[key]).status == 201);
  }
  // The third volume dies for good (its disk is gone: its files go with it); a new one takes
  // its place under another address.
  const std::string dead = c.volumes[2]->url();
  c.volumes[2]->kill9();
  c.volumes.erase(c.volumes.begin() + 2);
  c.volumes.push_back(std::make_unique<Volume>());
  const auto urls = c.urls();
  // Clients write (falling back while the old -v still names the dead volume), read and delete.
  const std::string down = R"(mkv_volume_up{volume=")" + dead + R"(",state="down"})";
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (parse_metrics(request(admin_port(c), "GET", "/metrics").body).at(down) != 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  Load load(c, 2);
  const auto replaced = run(topology_args(c, urls, 2, {"rebalance", "--grace", "0"}));
  load.finish();
  INFO(replaced.err);
  CHECK(replaced.exit_code == 0);
  CHECK(contains(replaced.err, "running the job inside it"));
  CHECK(contains(replaced.err, "is leaving and does not answer: its old copies are left there"));
  CHECK(contains(replaced.err, "copies left on volumes leaving -v that did not answer: "));
  CHECK(contains(replaced.err, "  failed deletes: 0\n"));
  CHECK(contains(replaced.err, "every key is on its placement"));
  CHECK_MESSAGE(load.failures == 0, (load.problems.empty() ? "" : load.problems.front()));
  // Every key has its two copies again, on the two live volumes and the new one.
  check_placed(c, values, urls, 2);
}

TEST_CASE("kill -9 of serve in the middle of an online rebalance: restart, run it again") {
  Cluster c;
  std::map<std::string, std::string> values;
  for (unsigned i = 0; i < 300; ++i) {
    const std::string key = "p/" + std::to_string(i);
    values[key] = value_of(20'000 + i, i);
    REQUIRE(c.put("/" + key, values[key]).status == 201);
  }
  c.volumes.push_back(std::make_unique<Volume>());
  const auto four = c.urls();
  RunResult cut;
  std::thread cli([&] {
    cut = run(topology_args(c, four, 2, {"rebalance", "--grace", "2", "--concurrency", "1"}));
  });
  // Killed once the new volume holds some of the copies: mid-job however slow the machine.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (c.volumes.back()->files().size() < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  c.server->kill9();
  cli.join();
  INFO(cut.err);
  CHECK(cut.exit_code == 1);
  CHECK(contains(cut.err, "ended before the job's report"));

  // The restarted server (still on the old -v) finishes the journal; every key reads.
  c.server->start();
  CHECK(contains(c.server->log(), "rebalance: journal finished"));
  for (const auto& [key, value] : values) CHECK(c.fetch("/" + key) == value);
  const auto again = run(topology_args(c, four, 2, {"rebalance", "--grace", "0"}));
  INFO(again.err);
  CHECK(again.exit_code == 0);
  check_placed(c, values, four, 2);

  // The index remembers what the rebalance placed the keys by: a serve started with the old
  // -v says so.
  c.server->stop();
  c.server->start();
  CHECK(contains(c.server->log(),
                 "warning: the last rebalance placed the keys on other volumes or with another "
                 "-r (r=2 " + four[0]));
}

TEST_CASE("self-healing: keys written with --write-fallback move back once their volume is up") {
  Cluster c(4, 2, {"--write-fallback", "--repair-interval", "1"});
  const auto urls = c.urls();
  const std::uint16_t admin = admin_port(c);
  const auto metric = [&](const std::string& name) {
    return parse_metrics(request(admin, "GET", "/metrics").body).at(name);
  };
  const auto wait_for_metric = [&](const std::string& name, double want, auto limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (metric(name) != want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
    }
    return metric(name);
  };
  c.volumes[0]->stop();
  REQUIRE(wait_for_metric(R"(mkv_volume_up{volume=")" + urls[0] + R"(",state="down"})", 1, 10s) ==
          1);

  // Keys whose placement holds the stopped volume are written to the next one up: marked.
  std::map<std::string, std::string> fallen;  // key -> value
  std::map<std::string, std::string> placed;
  for (unsigned i = 0; fallen.size() < 15; ++i) {
    const std::string key = "heal/" + std::to_string(i);
    const std::string value = value_of(3000 + i, i);
    REQUIRE(c.put("/" + key, value).status == 201);
    const auto home = mkv::volumes_for_key(key, urls, 2);
    REQUIRE(home.has_value());
    (std::find(home->begin(), home->end(), urls[0]) != home->end() ? fallen : placed)[key] = value;
  }
  const std::string backlog = "mkv_repair_backlog_keys";
  CHECK(wait_for_metric(backlog, static_cast<double>(fallen.size()), 10s) ==
        static_cast<double>(fallen.size()));

  // The volume comes back while clients write, read and delete: the marked keys move onto
  // their placement under their locks, and no client sees a failure.
  {
    Load load(c, 2);
    c.volumes[0]->start();
    CHECK(wait_for_metric(backlog, 0, 30s) == 0);
    std::this_thread::sleep_for(500ms);
    load.finish();
    CHECK_MESSAGE(load.failures == 0, (load.problems.empty() ? "" : load.problems.front()));
    CHECK(load.operations > 0);
  }
  CHECK(metric(R"(mkv_job_runs_total{job="repair"})") > 0);

  // Every key is readable and, once the grace period has passed, held exactly by its
  // placement: the copies on the fallback volume are deleted.
  for (const auto* group : {&fallen, &placed}) {
    for (const auto& [key, value] : *group) {
      CAPTURE(key);
      CHECK(c.fetch("/" + key) == value);
      const auto home = mkv::volumes_for_key(key, urls, 2);
      std::vector<std::size_t> want;
      for (const auto& url : *home) {
        want.push_back(static_cast<std::size_t>(std::find(urls.begin(), urls.end(), url) -
                                                urls.begin()));
      }
      std::sort(want.begin(), want.end());
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      while (c.holders(key) != want && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(200ms);
      }
      CHECK(c.holders(key) == want);
      // The redirect goes to the placement's first volume.
      CHECK(c.get("/" + key).header("location").rfind((*home)[0] + "/", 0) == 0);
    }
  }
}

TEST_CASE("online gc while clients write: old orphans go, nothing in flight is touched") {
  Cluster c;
  std::map<std::string, std::string> values;
  for (unsigned i = 0; i < 30; ++i) {
    const std::string key = "g/" + std::to_string(i);
    values[key] = value_of(5000 + i, i);
    REQUIRE(c.put("/" + key, values[key]).status == 201);
  }
  // Orphans written two hours ago (by the files' times), straight onto the volumes.
  std::vector<std::pair<std::size_t, std::string>> orphans;
  for (unsigned i = 0; i < 12; ++i) {
    const std::size_t v = i % c.volumes.size();
    const std::string path = "orphan/" + std::to_string(i);
    c.volumes[v]->write(path, "left behind " + std::to_string(i));
    std::filesystem::last_write_time(
        c.volumes[v]->data_dir() / path,
        std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
    orphans.emplace_back(v, path);
  }

  // gc inside the serve, with a grace period of 5 s, while clients write, overwrite, read and
  // delete their own keys: every write in flight is younger than that, and every key file is
  // judged again under its key's lock.
  Load load(c, 3);
  std::this_thread::sleep_for(1s);
  const auto collected = run(mkv_args(c, {"gc", "--grace", "5"}));
  std::this_thread::sleep_for(300ms);
  load.finish();
  INFO(collected.err);
  CHECK(collected.exit_code == 0);
  CHECK(contains(collected.err, "running the job inside it"));
  CHECK(contains(collected.err, "failed: 0"));
  CHECK(contains(collected.err, "deleted: 12 "));
  CHECK_MESSAGE(load.failures == 0, (load.problems.empty() ? "" : load.problems.front()));
  CHECK(load.operations > 0);
  for (const auto& [v, path] : orphans) CHECK_FALSE(c.volumes[v]->has(path));

  // Every key reads back whole: the ones written before, and the load's (checked as they went;
  // here, each one left is on two volumes with the bytes the index's size says).
  for (const auto& [key, value] : values) CHECK(c.fetch("/" + key) == value);
  const auto listed = c.get("/?prefix=load/");
  REQUIRE(listed.status == 200);
  const auto keys = boost::json::parse(listed.body).at("keys").as_array();
  for (const auto& k : keys) {
    const std::string key(k.as_string());
    CAPTURE(key);
    const auto head = c.head("/" + key);
    CHECK(head.status == 200);
    CHECK(c.holders(key).size() == 2);
    CHECK(c.fetch("/" + key).size() == std::stoul(head.header("content-length")));
  }
}
