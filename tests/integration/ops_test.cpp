// Operations on real nginx volumes: rebuild reproduces a lost index exactly and leaves the old
// one alone when it cannot finish; rebalance moves exactly what placement says after a volume
// is added or removed, its dry run changes nothing, and a rebalance killed with SIGKILL is
// finished by the next run; neither runs beside a serve of the same index.
#include "cluster.h"

#include "mkv/key.h"
#include "mkv/placement.h"
#include "mkv/record.h"
#include "mkv_config.h"

#include "test_index.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace mkv::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Keys that stress the path mapping, then `bulk` ordinary keys over a few directories.
std::vector<std::string> test_keys(std::size_t bulk) {
  std::vector<std::string> keys = {
      "with space/a b  c",
      "percent/100%",
      "percent/%41%zz",
      "plus/a+b+c",
      "utf8/\xC3\xBCn\xC3\xAF" "c\xC3\xB8" "d\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC/\xE2\x82\xAC",
      "quotes/\"double\" and 'single'",
      "punct/semi;colon,comma=eq&amp",
      "hash#and?question",
      "deep/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/leaf",
      "brackets/[x]{y}(z)",
      "dots.../in.the/middle.",
      "empty-value",
      std::string(255, 'L'),
  };
  for (std::size_t i = 0; i < bulk; ++i) {
    keys.push_back("bulk/" + std::to_string(i % 10) + "/key-" + std::to_string(i));
  }
  return keys;
}

// Returns the request target of key. (Appended, not "/" + ...: GCC 12 warns -Wrestrict
// falsely on that.)
std::string target_of(const std::string& key) {
  std::string target = "/";
  target += mkv::encode_key(key);
  return target;
}

// The value stored under keys[i]: deterministic bytes of a varying size (0 for "empty-value").
std::string value_of(const std::string& key, std::size_t i, std::size_t base_size) {
  if (key == "empty-value") return {};
  std::string value = key + '|';
  const std::size_t size = base_size + (i * 37) % 3000;
  while (value.size() < size) value += static_cast<char>('a' + (value.size() * 7 + i) % 26);
  value.resize(size);
  return value;
}

std::map<std::string, std::string> put_all(Cluster& c, const std::vector<std::string>& keys,
                                           std::size_t base_size) {
  std::map<std::string, std::string> values;
  Connection connection(c.port());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::string value = value_of(keys[i], i, base_size);
    const auto put = connection.request("PUT", target_of(keys[i]), value);
    REQUIRE_MESSAGE(put.status == 201, keys[i]);
    values[keys[i]] = std::move(value);
  }
  return values;
}

// Returns where each record's blob is and how big it is: the record without its checksum and
// write time, which a rebuild from the volumes alone cannot know exactly.
std::map<std::string, mkv::Record> locations(std::map<std::string, mkv::Record> records) {
  for (auto& [key, record] : records) {
    record.md5.reset();
    record.modified = 0;
  }
  return records;
}

// Returns each record's checksum.
std::map<std::string, std::optional<mkv::Md5>> checksums(
    const std::map<std::string, mkv::Record>& records) {
  std::map<std::string, std::optional<mkv::Md5>> out;
  for (const auto& [key, record] : records) out.emplace(key, record.md5);
  return out;
}

// Returns the files of every volume, by volume URL.
std::map<std::string, std::vector<std::string>> files_by_volume(const Cluster& c) {
  std::map<std::string, std::vector<std::string>> files;
  for (const auto& v : c.volumes) files[v->url()] = v->files();
  return files;
}

std::vector<std::string> mkv_args(const Cluster& c, const std::vector<std::string>& urls,
                                  std::vector<std::string> command) {
  std::vector<std::string> args = {"-d", c.db().string(), "-v", join_urls(urls), "-r", "2"};
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

// Returns the keys whose placement among `after` differs from the one among `before`.
std::size_t keys_moving(const std::map<std::string, std::string>& values,
                        const std::vector<std::string>& before,
                        const std::vector<std::string>& after) {
  std::size_t n = 0;
  for (const auto& [key, value] : values) {
    if (*mkv::volumes_for_key(key, before, 2) != *mkv::volumes_for_key(key, after, 2)) ++n;
  }
  return n;
}

// Returns the number after `label` in text (e.g. "keys to move:"), or -1.
long number_after(const std::string& text, const std::string& label) {
  const auto at = text.find(label);
  if (at == std::string::npos) return -1;
  return std::strtol(text.c_str() + at + label.size(), nullptr, 10);
}

// Checks that every key is indexed with exactly its placement among urls, that each volume
// holds exactly the keys placed on it (and nothing else), with the right bytes.
void check_placed(const Cluster& c, const std::vector<std::string>& urls,
                  const std::map<std::string, std::string>& values) {
  const auto index = read_index(c.db());
  CHECK(index.size() == values.size());
  std::map<std::string, std::set<std::string>> expected;  // volume URL -> keys
  for (const auto& v : c.volumes) expected[v->url()];
  for (const auto& [key, value] : values) {
    const auto placement = *mkv::volumes_for_key(key, urls, 2);
    const auto found = index.find(key);
    REQUIRE_MESSAGE(found != index.end(), key);
    CHECK_MESSAGE(found->second.volumes == placement, key);
    CHECK_MESSAGE(found->second.size == value.size(), key);
    for (const auto& url : placement) expected[url].insert(key);
  }
  for (const auto& v : c.volumes) {
    CAPTURE(v->url());
    const auto files = v->files();
    const std::set<std::string> held(files.begin(), files.end());
    CHECK(held == expected[v->url()]);
    for (const auto& key : held) {
      if (values.count(key)) CHECK_MESSAGE(v->read(key) == values.at(key), key);
    }
  }
}

// Checks what must hold at every instant: each volume the index names for a key holds the
// key's full value.
void check_index_points_at_copies(const Cluster& c,
                                  const std::map<std::string, std::string>& values) {
  const auto index = read_index(c.db());
  CHECK(index.size() == values.size());
  std::map<std::string, const Volume*> by_url;
  for (const auto& v : c.volumes) by_url[v->url()] = v.get();
  for (const auto& [key, record] : index) {
    CHECK_MESSAGE(!record.volumes.empty(), key);
    for (const auto& url : record.volumes) {
      REQUIRE(by_url.count(url));
      CHECK_MESSAGE(by_url[url]->has(key), (key + " on " + url));
      if (by_url[url]->has(key)) CHECK_MESSAGE(by_url[url]->read(key) == values.at(key), key);
    }
  }
}

// Fetches every key through a serve of the index with urls, following the redirect.
void check_served(const Cluster& c, const std::vector<std::string>& urls,
                  const std::map<std::string, std::string>& values) {
  Server server(c.db(), urls, 2);
  Connection connection(server.port());
  for (const auto& [key, value] : values) {
    const auto redirect = connection.request("GET", target_of(key));
    REQUIRE_MESSAGE(redirect.status == 302, key);
    const auto blob = request_url(redirect.header("location"));
    CHECK_MESSAGE(blob.status == 200, key);
    CHECK_MESSAGE(blob.body == value, key);
  }
}

// A command running in the background (for killing it part way).
struct Background {
  pid_t pid = -1;
  fs::path err;

  // Returns whether it still runs; reaps it if it ended.
  bool running() {
    int status = 0;
    return waitpid(pid, &status, WNOHANG) == 0;
  }
  void kill9() {
    ::kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
};

Background start_mkv(const std::vector<std::string>& args, const fs::path& err) {
  std::vector<std::string> argv = {mkv_binary()};
  const auto located = index_args(args);
  argv.insert(argv.end(), located.begin(), located.end());
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = ::open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(fd, 2);
    execv(raw[0], raw.data());
    _exit(127);
  }
  return {pid, err};
}

}  // namespace

TEST_CASE("rebuild reproduces every key, size and volume list, and keeps the old index when it "
          "cannot read a volume") {
  Cluster c;
  const auto values = put_all(c, test_keys(1000), 0);

  // rebuild does not run beside the serve that owns the index; rebalance runs inside it
  // (tests/integration/online_test.cpp), here a dry run with nothing to do.
  const auto refused = run(mkv_args(c, c.urls(), {"rebuild"}));
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("is in use by another mkv process") != std::string::npos);
  CHECK(refused.err.find("serve") != std::string::npos);
  const auto planned = run(mkv_args(c, c.urls(), {"rebalance", "--dry-run"}));
  CHECK(planned.exit_code == 0);
  CHECK(planned.err.find("running the job inside it") != std::string::npos);
  CHECK(planned.out.find("nothing to do: every key is on its placement") != std::string::npos);
  REQUIRE(c.server->stop() == 0);
  const auto before = read_index(c.db());
  REQUIRE(before.size() == values.size());

  // What is not a key is skipped: a stale staged overwrite, a name that is not UTF-8.
  c.volumes[0]->write(".mkv/staging/0123abcd", "staged");
  c.volumes[1]->write("latin1-\xE9", "not a key");

  // Rebuilding over an existing index keeps every checksum of a key whose size still matches.
  const auto again = run(mkv_args(c, c.urls(), {"rebuild", "--concurrency", "3"}));
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("checksums unknown: 0 (kept from the old index: " +
                       std::to_string(values.size()) + ")") != std::string::npos);
  CHECK(locations(read_index(c.db())) == locations(before));
  CHECK(checksums(read_index(c.db())) == checksums(before));

  // From nothing, the checksums are unknown, and the summary says how to get them back.
  remove_index(c.db());
  const auto rebuilt = run(mkv_args(c, c.urls(), {"rebuild"}));
  CHECK(rebuilt.exit_code == 0);
  INFO(rebuilt.err);
  CHECK(rebuilt.err.find("indexed " + std::to_string(values.size()) + " keys, " +
                         std::to_string(2 * values.size()) + " copies") != std::string::npos);
  CHECK(rebuilt.err.find("under-replicated (fewer than 2 copies): 0") != std::string::npos);
  CHECK(rebuilt.err.find("misplaced (a copy outside the placement): 0") != std::string::npos);
  CHECK(rebuilt.err.find("skipped entries (not keys): 1") != std::string::npos);
  CHECK(rebuilt.err.find("checksums unknown: " + std::to_string(values.size())) !=
        std::string::npos);
  CHECK(rebuilt.err.find("run `verify`") != std::string::npos);
  const auto from_nothing = read_index(c.db());
  CHECK(locations(from_nothing) == locations(before));
  for (const auto& [key, record] : from_nothing) CHECK(!record.md5);
  CHECK(!fs::exists(c.db().string() + ".rebuild"));

  // A volume that cannot be read: exit 1, and the old index stays as it was.
  c.volumes[2]->stop();
  const auto partial = run(mkv_args(c, c.urls(), {"rebuild"}));
  CHECK(partial.exit_code == 1);
  CHECK(partial.err.find("cannot read " + c.volumes[2]->url()) != std::string::npos);
  CHECK(partial.err.find("was left unchanged") != std::string::npos);
  CHECK(read_index(c.db()) == from_nothing);
  CHECK(!fs::exists(c.db().string() + ".rebuild"));
  c.volumes[2]->start();

  check_served(c, c.urls(), values);
}

TEST_CASE("adding a volume moves about r/(N+1) of the keys, removing one moves its copies away; "
          "the dry runs change nothing") {
  Cluster c;
  const auto values = put_all(c, test_keys(1000), 0);
  REQUIRE(c.server->stop() == 0);
  const auto three = c.urls();

  c.volumes.push_back(std::make_unique<Volume>());
  const auto four = c.urls();
  const std::size_t to_add = keys_moving(values, three, four);
  // A fourth volume enters the placement of about r/(N+1) = 2/4 of the keys.
  CHECK(to_add > values.size() * 42 / 100);
  CHECK(to_add < values.size() * 58 / 100);

  const auto index_before = read_index(c.db());
  const auto files_before = files_by_volume(c);
  const auto dry = run(mkv_args(c, four, {"rebalance", "--dry-run"}));
  CHECK(dry.exit_code == 0);
  INFO(dry.out);
  CHECK(dry.out.find("nothing was changed") != std::string::npos);
  CHECK(number_after(dry.out, "keys to move:") == static_cast<long>(to_add));
  CHECK(number_after(dry.out, "copies to make:") == static_cast<long>(to_add));
  CHECK(number_after(dry.out, "copies to delete:") == static_cast<long>(to_add));
  CHECK(read_index(c.db()) == index_before);
  CHECK(files_by_volume(c) == files_before);

  const auto added = run(mkv_args(c, four, {"rebalance"}));
  CHECK(added.exit_code == 0);
  CHECK(added.err.find("moved " + std::to_string(to_add) + " of " + std::to_string(to_add)) !=
        std::string::npos);
  check_placed(c, four, values);
  CHECK(c.volumes[3]->files().size() == to_add);
  check_served(c, four, values);

  // Nothing left to do: a second run moves nothing.
  const auto idle = run(mkv_args(c, four, {"rebalance"}));
  CHECK(idle.exit_code == 0);
  CHECK(idle.err.find("nothing to do") != std::string::npos);

  // Remove the first volume from -v (it keeps running, so its copies can be read).
  const std::vector<std::string> without_first(four.begin() + 1, four.end());
  const std::size_t to_remove = keys_moving(values, four, without_first);
  CHECK(to_remove == c.volumes[0]->files().size());
  const auto index_mid = read_index(c.db());
  const auto files_mid = files_by_volume(c);
  const auto dry_remove = run(mkv_args(c, without_first, {"rebalance", "--dry-run"}));
  CHECK(dry_remove.exit_code == 0);
  CHECK(number_after(dry_remove.out, "keys to move:") == static_cast<long>(to_remove));
  CHECK(read_index(c.db()) == index_mid);
  CHECK(files_by_volume(c) == files_mid);

  const auto removed = run(mkv_args(c, without_first, {"rebalance"}));
  CHECK(removed.exit_code == 0);
  check_placed(c, without_first, values);
  CHECK(c.volumes[0]->files().empty());
  check_served(c, without_first, values);
}

TEST_CASE("a rebalance killed with SIGKILL part way is finished by the next run") {
  Cluster c;
  const auto values = put_all(c, test_keys(1500), 4096);
  REQUIRE(c.server->stop() == 0);
  c.volumes.push_back(std::make_unique<Volume>());
  const auto four = c.urls();
  const std::size_t to_add = keys_moving(values, std::vector<std::string>(four.begin(), four.end() - 1), four);
  TempDir logs;

  // Kill runs at different points: while copying the first page, further on, and once deletes
  // have begun (after an index write). Each time the index names only full copies.
  const auto old_copies = [&] {
    std::size_t n = 0;
    for (std::size_t i = 0; i < 3; ++i) n += c.volumes[i]->files().size();
    return n;
  };
  const std::size_t all_old = old_copies();
  REQUIRE(all_old == 2 * values.size());
  struct KillPoint {
    const char* name;
    std::function<bool()> reached;
  };
  const KillPoint points[] = {
      {"copying", [&] { return c.volumes[3]->files().size() >= 30; }},
      {"copying further", [&] { return c.volumes[3]->files().size() >= to_add / 2; }},
      {"deleting", [&] { return old_copies() < all_old; }},
  };
  std::size_t kills = 0;
  for (const auto& point : points) {
    CAPTURE(point.name);
    auto job = start_mkv(mkv_args(c, four, {"rebalance", "--concurrency", "1"}),
                         logs.path() / ("kill-" + std::to_string(kills)));
    bool running = true;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while ((running = job.running()) && !point.reached() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    if (running) {
      job.kill9();
      ++kills;
    }
    check_index_points_at_copies(c, values);
  }
  CHECK(kills >= 1);  // a run that finished before the kill would test nothing
  // (Almost always killed mid-page, with its journal left; between pages there is none.)
  const bool journalled = fs::exists(c.db().string() + ".rebalance-journal");

  const auto finished = run(mkv_args(c, four, {"rebalance"}));
  CHECK(finished.exit_code == 0);
  INFO(finished.err);
  if (journalled) CHECK(finished.err.find("finishing the interrupted run") != std::string::npos);
  CHECK(!fs::exists(c.db().string() + ".rebalance-journal"));
  check_placed(c, four, values);
}
