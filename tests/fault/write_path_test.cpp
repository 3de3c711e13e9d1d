// A write path that leaves nothing behind, on real nginx volumes and the real binary: a
// directory left by deleted keys never blocks a new key (and clearing it never touches a key
// stored or being written below it), and overwrites that a crash cut short are finished by the
// next start, with no staging file left.
#include "fault.h"

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace mkv::test;
using namespace std::chrono_literals;

namespace {

// Returns the files under /.mkv/staging/ on every volume of the cluster.
std::vector<std::string> staging_files(const Cluster& c) {
  std::vector<std::string> out;
  for (const auto& f : c.all_files()) {
    if (f.find("/.mkv/staging/") != std::string::npos) out.push_back(f);
  }
  return out;
}

// Returns the intents left in the index (open it only while no server owns it).
std::vector<mkv::Intent> intents_of(const std::filesystem::path& db) {
  auto index = TestIndex::open(index_location(db));
  REQUIRE(index.has_value());
  auto intents = index->intents();
  REQUIRE(intents.has_value());
  return std::move(*intents);
}

// Returns a body of n bytes that differs for every seed.
std::string body_of(std::size_t n, int seed) {
  std::string body(n, ' ');
  for (std::size_t i = 0; i < n; ++i) body[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return body;
}

}  // namespace

TEST_CASE("a directory left by deleted keys does not block a new key") {
  Cluster c;
  SUBCASE("a small body, sent whole") {
    REQUIRE(c.put("/path/to/key", "below").status == 201);
    REQUIRE(c.del("/path/to/key").status == 204);
    const auto put = c.put("/path/to", "now a blob");
    CHECK(put.status == 201);
    CHECK(c.fetch("/path/to") == "now a blob");
    CHECK(c.get("/path/to/key").status == 404);
  }
  SUBCASE("a large body of known length") {
    REQUIRE(c.put("/big/dir/key", "below").status == 201);
    REQUIRE(c.del("/big/dir/key").status == 204);
    const std::string body = body_of(3 * 1024 * 1024 / 2, 1);
    CHECK(c.put("/big/dir", body).status == 201);
    CHECK(c.fetch("/big/dir") == body);
  }
  SUBCASE("a streamed body") {
    REQUIRE(c.put("/chunk/dir/key", "below").status == 201);
    REQUIRE(c.del("/chunk/dir/key").status == 204);
    const std::string body = body_of(700 * 1024, 2);
    std::size_t sent = 0;
    const auto put = request_chunked(c.port(), "PUT", "/chunk/dir", [&]() -> std::optional<std::string> {
      if (sent >= body.size()) return std::nullopt;
      const std::size_t n = std::min<std::size_t>(64 * 1024, body.size() - sent);
      sent += n;
      return body.substr(sent - n, n);
    });
    CHECK(put.status == 201);
    CHECK(c.fetch("/chunk/dir") == body);
  }
  SUBCASE("a directory that holds a file no record names") {
    // (on the key's placement volumes, where it is in the way)
    for (std::size_t i = 0; i < c.volumes.size(); ++i) {
      if (placed_on("orphaned", c.urls(), i, 2)) {
        c.volumes[i]->write("orphaned/left-behind", "no record names me");
      }
    }
    CHECK(c.put("/orphaned", "the key").status == 201);
    CHECK(c.fetch("/orphaned") == "the key");
  }
  // Nothing but indexed blobs is left anywhere.
  c.server->stop();
  const auto index = read_index(c.db());
  check_index_matches_volumes(c, index);
  CHECK(unindexed_files(c, index).empty());
}

TEST_CASE("clearing a leftover directory never touches a key stored or being written below it") {
  Cluster c;
  int both = 0, parent_won = 0, child_won = 0;
  for (int round = 0; round < 30; ++round) {
    const std::string parent = "race/" + std::to_string(round);
    REQUIRE(c.put("/" + parent + "/old", "leaves a directory").status == 201);
    REQUIRE(c.del("/" + parent + "/old").status == 204);
    unsigned parent_status = 0, child_status = 0;
    std::thread a([&] { parent_status = c.put("/" + parent, "parent value").status; });
    std::thread b([&] { child_status = c.put("/" + parent + "/child", "child value").status; });
    a.join();
    b.join();
    CAPTURE(round);
    CHECK_FALSE((parent_status == 201 && child_status == 201));
    if (parent_status == 201) {
      ++parent_won;
      CHECK(c.fetch("/" + parent) == "parent value");
    }
    if (child_status == 201) {
      ++child_won;
      CHECK(c.fetch("/" + parent + "/child") == "child value");
      for (auto h : c.holders(parent + "/child")) {
        CHECK(c.volumes[h]->read(parent + "/child") == "child value");
      }
    }
    if (parent_status == 201 && child_status == 201) ++both;
  }
  MESSAGE("parent stored " << parent_won << " times, child " << child_won << " times");
  CHECK(both == 0);
  c.server->stop();
  check_index_matches_volumes(c, read_index(c.db()));
}

TEST_CASE("staging files no overwrite needs are deleted when serve starts") {
  Cluster c;
  REQUIRE(c.put("/k", "v").status == 201);
  c.server->stop();
  for (const auto& v : c.volumes) {
    v->write(".mkv/staging/0123456789abcdef0123456789abcdef", "a PUT a crash cut short");
  }
  REQUIRE(staging_files(c).size() == 3);
  c.server->start();
  CHECK(staging_files(c).empty());
  CHECK(c.fetch("/k") == "v");
  CHECK(c.server->log().find("staging files no overwrite needs") != std::string::npos);
}

TEST_CASE("an overwrite a crash cut short between its commit and its moves is finished at start") {
  for (const int moved_before : {0, 1, 2}) {
    CAPTURE(moved_before);
    Cluster c;
    const auto urls = c.urls();
    const std::string key = "crash/overwritten";
    REQUIRE(c.put("/" + key, "the old value").status == 201);
    c.server->stop();
    const auto before = read_index(c.db()).at(key);
    // The state a crash leaves: the new value staged on each volume of the record and the new
    // record committed with its intent; `moved_before` of the moves had happened.
    const std::string token = "feedfacefeedfacefeedfacefeedface";
    const std::string value = "the new and longer value";
    for (std::size_t i = 0; i < before.volumes.size(); ++i) {
      Volume* v = volume_by_url(c, before.volumes[i]);
      if (static_cast<int>(i) < moved_before) {
        v->write(key, value);
      } else {
        v->write(".mkv/staging/" + token, value);
      }
    }
    {
      auto index = TestIndex::open(index_location(c.db()));
      REQUIRE(index.has_value());
      const mkv::Record committed{before.volumes, value.size()};
      mkv::Write commit{key, committed};
      commit.begin_intent = mkv::Intent{token, key, before.volumes, before};
      REQUIRE(index->apply(std::vector<mkv::Write>{commit}).has_value());
    }
    c.server->start();
    CHECK(c.fetch("/" + key) == value);
    CHECK(c.head("/" + key).header("content-length") == std::to_string(value.size()));
    CHECK(staging_files(c).empty());
    CHECK(c.server->log().find("finishing the overwrite of " + key) != std::string::npos);
    c.server->stop();
    CHECK(intents_of(c.db()).empty());
    const auto held = check_index_matches_volumes(c, read_index(c.db()));
    CHECK(held.at(key) == value);
  }
}

TEST_CASE("kill -9 of serve during overwrites, then a restart: replicas agree, nothing staged") {
  Cluster c;
  std::vector<std::string> keys;
  for (int i = 0; i < 8; ++i) {
    keys.push_back("churn/" + std::to_string(i));
    REQUIRE(c.put("/" + keys.back(), body_of(1000 + i, i)).status == 201);
  }
  std::mt19937 random(7);
  for (int round = 0; round < 6; ++round) {
    CAPTURE(round);
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        for (int n = 0; !stop.load(); ++n) {
          const std::string& key = keys[static_cast<std::size_t>(n * 3 + w) % keys.size()];
          try {
            (void)request(c.port(), "PUT", "/" + key, body_of(2000 + n % 5000, n + w * 1000), {},
                          2s);
          } catch (const std::exception&) {
            // The server was killed under this request.
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 200));
    c.server->kill9();
    stop = true;
    for (auto& t : writers) t.join();
    c.server->start();  // finishes what the kill cut short before it serves
    c.server->stop();
    CHECK(intents_of(c.db()).empty());
    const auto index = read_index(c.db());
    check_index_matches_volumes(c, index);
    CHECK(staging_files(c).empty());
    c.server->start();
  }
}
