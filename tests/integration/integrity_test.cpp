// Integrity on real nginx volumes: the ETag and Last-Modified of every blob, Content-MD5 checked
// on PUT (a bad one indexes nothing and keeps an overwritten value whole), conditional requests
// (create-only races, compare-and-swap, 304 and 412 on reads), an index of schema version 1
// served after its upgrade, `mkv verify` finding exactly the copies that were damaged on disk
// and `--repair` restoring their bytes, and a rebalance that never copies a corrupt source.
#include "cluster.h"

#include "mkv/checksum.h"
#include "mkv/conditions.h"
#include "mkv/key.h"

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace mkv::test;

namespace {

std::string etag(std::string_view body) { return mkv::etag_of(mkv::md5_of(body)); }

std::string content_md5(std::string_view body) {
  return mkv::content_md5_of(mkv::md5_of(body));
}

// A value of size bytes that differs per seed.
std::string value_of(std::size_t size, unsigned seed) {
  std::string value(size, '\0');
  for (std::size_t i = 0; i < size; ++i) value[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return value;
}

std::vector<std::string> mkv_args(const std::filesystem::path& db,
                                  const std::vector<std::string>& urls, unsigned replicas,
                                  std::vector<std::string> command) {
  std::vector<std::string> args = {"-d", db.string(), "-v", join_urls(urls), "-r",
                                   std::to_string(replicas)};
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

// Returns whether no volume holds key, waiting up to 5 s: a refused PUT's copies are deleted
// after the client has its answer.
bool gone_from_volumes(const Cluster& c, std::string_view key) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!c.holders(key).empty()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("HEAD and GET answer the blob's ETag (its MD5) and Last-Modified") {
  Cluster c;
  const std::string body = value_of(5000, 1);
  const auto before = std::time(nullptr);
  REQUIRE(c.put("/k", body).status == 201);
  for (const auto& r : {c.head("/k"), c.get("/k")}) {
    CHECK(r.header("etag") == etag(body));
    const auto modified = mkv::parse_http_date(r.header("last-modified"));
    REQUIRE(modified.has_value());
    CHECK(*modified >= before - 1);
    CHECK(*modified <= std::time(nullptr) + 1);
  }
  CHECK(c.get("/k").status == 302);
  CHECK(c.fetch("/k") == body);

  // An overwrite changes the ETag.
  REQUIRE(c.put("/k", "other").status == 201);
  CHECK(c.head("/k").header("etag") == etag("other"));
  // The empty blob has one too.
  REQUIRE(c.put("/empty", "").status == 201);
  CHECK(c.head("/empty").header("etag") == "\"d41d8cd98f00b204e9800998ecf8427e\"");
}

TEST_CASE("Content-MD5: a good one stores, a bad one indexes nothing and keeps an overwrite's old "
          "value, a malformed one is refused") {
  Cluster c;
  const std::string body = value_of(100'000, 2);
  CHECK(c.put("/good", body, {{"Content-MD5", content_md5(body)}}).status == 201);
  CHECK(c.fetch("/good") == body);

  // New key, wrong digest: 400, not indexed, no file left on a volume.
  auto bad = c.put("/new", body, {{"Content-MD5", content_md5("something else")}});
  CHECK(bad.status == 400);
  CHECK(contains(bad.body, "bad digest"));
  CHECK(c.head("/new").status == 404);
  CHECK(gone_from_volumes(c, "new"));

  // Overwrite, wrong digest: the old value stays whole on every copy.
  bad = c.put("/good", value_of(100'000, 3), {{"Content-MD5", content_md5("something else")}});
  CHECK(bad.status == 400);
  CHECK(contains(bad.body, "bad digest"));
  CHECK(c.head("/good").header("etag") == etag(body));
  for (auto i : c.holders("good")) CHECK(c.volumes[i]->read("good") == body);
  CHECK(c.holders("good").size() == 2);

  // Malformed: not base64 of 16 bytes.
  for (const std::string malformed : {"not base64!", "AAAA", ""}) {
    CAPTURE(malformed);
    const auto r = c.put("/good", "x", {{"Content-MD5", malformed}});
    CHECK(r.status == 400);
    CHECK(contains(r.body, "Content-MD5"));
  }
  CHECK(c.fetch("/good") == body);

  // A chunked body is checked the same way.
  std::size_t sent = 0;
  const auto chunked = request_chunked(
      c.port(), "PUT", "/chunked",
      [&]() -> std::optional<std::string> {
        if (sent >= body.size()) return std::nullopt;
        const auto piece = body.substr(sent, 30'000);
        sent += piece.size();
        return piece;
      },
      {{"Content-MD5", content_md5(body)}});
  CHECK(chunked.status == 201);
  CHECK(c.head("/chunked").header("etag") == etag(body));
}

TEST_CASE("If-None-Match: * creates only: of racing create-only PUTs exactly one wins") {
  Cluster c;
  for (int round = 0; round < 5; ++round) {
    const std::string key = "/race-" + std::to_string(round);
    constexpr int writers = 8;
    std::atomic<int> created = 0, refused = 0, other = 0;
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        const auto r = c.put(key, value_of(20'000, w), {{"If-None-Match", "*"}});
        (r.status == 201 ? created : r.status == 412 ? refused : other) += 1;
      });
    }
    for (auto& t : threads) t.join();
    CHECK(created == 1);
    CHECK(refused == writers - 1);
    CHECK(other == 0);
  }
  const auto again = c.put("/race-0", "late", {{"If-None-Match", "*"}});
  CHECK(again.status == 412);
  CHECK(contains(again.body, "precondition failed"));
}

TEST_CASE("If-Match on PUT and DELETE is compare-and-swap") {
  Cluster c;
  REQUIRE(c.put("/cas", "one").status == 201);
  const std::string first = c.head("/cas").header("etag");
  CHECK(first == etag("one"));

  CHECK(c.put("/cas", "two", {{"If-Match", first}}).status == 201);
  // The first ETag is stale now: the swap is refused and the value stays.
  CHECK(c.put("/cas", "three", {{"If-Match", first}}).status == 412);
  CHECK(c.fetch("/cas") == "two");
  CHECK(request(c.port(), "DELETE", "/cas", {}, {{"If-Match", first}}).status == 412);
  CHECK(c.fetch("/cas") == "two");
  // A list with the current tag, and "*", match.
  CHECK(c.put("/cas", "four", {{"If-Match", "\"0123\", " + etag("two")}}).status == 201);
  CHECK(c.put("/cas", "five", {{"If-Match", "*"}}).status == 201);
  CHECK(request(c.port(), "DELETE", "/cas", {}, {{"If-Match", etag("five")}}).status == 204);
  CHECK(c.head("/cas").status == 404);
  // On a key that does not exist, If-Match fails: nothing is created.
  CHECK(c.put("/cas", "six", {{"If-Match", "*"}}).status == 412);
  CHECK(c.head("/cas").status == 404);
  // A malformed tag list is a bad request.
  const auto malformed = c.put("/cas", "x", {{"If-Match", "no-quotes"}});
  CHECK(malformed.status == 400);
}

TEST_CASE("conditional GET and HEAD: 304 and 412") {
  Cluster c;
  REQUIRE(c.put("/r", "read me").status == 201);
  const std::string tag = c.head("/r").header("etag");
  const std::string modified = c.head("/r").header("last-modified");
  const std::string past = "Sat, 01 Jan 2000 00:00:00 GMT";
  const std::string future = mkv::format_http_date(std::time(nullptr) + 3600);

  struct Case {
    Headers headers;
    unsigned status;
  };
  const std::vector<Case> cases = {
      {{{"If-None-Match", tag}}, 304},
      {{{"If-None-Match", "\"other\""}}, 302},
      {{{"If-None-Match", "*"}}, 304},
      {{{"If-Match", tag}}, 302},
      {{{"If-Match", "\"other\""}}, 412},
      {{{"If-Modified-Since", modified}}, 304},
      {{{"If-Modified-Since", future}}, 304},
      {{{"If-Modified-Since", past}}, 302},
      {{{"If-Unmodified-Since", modified}}, 302},
      {{{"If-Unmodified-Since", past}}, 412},
      // If-None-Match wins over If-Modified-Since, If-Match over If-Unmodified-Since.
      {{{"If-None-Match", "\"other\""}, {"If-Modified-Since", modified}}, 302},
      {{{"If-Match", tag}, {"If-Unmodified-Since", past}}, 302},
      // A date that cannot be parsed is ignored.
      {{{"If-Modified-Since", "yesterday"}}, 302},
  };
  for (const std::string method : {"GET", "HEAD"}) {
    for (const auto& k : cases) {
      CAPTURE(method);
      CAPTURE(k.headers.front().first);
      CAPTURE(k.headers.front().second);
      const auto r = request(c.port(), method, "/r", {}, k.headers);
      // Where the conditions let it through, GET redirects and HEAD answers 200.
      CHECK(r.status == (k.status == 302 && method == "HEAD" ? 200u : k.status));
      if (r.status == 304) {
        CHECK(r.header("etag") == tag);
        CHECK(r.body.empty());
      }
    }
  }
  // A missing key is 404 whatever the conditions.
  CHECK(request(c.port(), "GET", "/absent", {}, {{"If-None-Match", "*"}}).status == 404);
}

TEST_CASE("verify finds exactly the damaged copies; --repair restores the original bytes") {
  Cluster c;
  std::map<std::string, std::string> values;
  for (unsigned i = 0; i < 40; ++i) {
    const std::string key = "v/" + std::to_string(i);
    values[key] = value_of(1000 + i * 977, i);
    REQUIRE(c.put("/" + key, values[key]).status == 201);
  }
  REQUIRE(c.server->stop() == 0);
  const auto args = [&](std::vector<std::string> command) {
    return mkv_args(c.db(), c.urls(), 2, std::move(command));
  };

  const auto clean = run(args({"verify"}));
  INFO(clean.err);
  CHECK(clean.exit_code == 0);
  CHECK(contains(clean.err, "checked 40 keys, 80 copies"));
  CHECK(contains(clean.err, "every copy is good"));

  // One copy corrupted (same size, one byte flipped), one deleted, one truncated.
  const auto damage = [&](const std::string& key) {
    const auto holders = c.holders(key);
    REQUIRE(holders.size() == 2);
    return c.volumes[holders[1]].get();
  };
  Volume* flipped = damage("v/3");
  std::string bytes = flipped->read("v/3");
  bytes[bytes.size() / 2] ^= 0x01;
  flipped->write("v/3", bytes);
  Volume* deleted = damage("v/17");
  std::filesystem::remove(deleted->data_dir() / "v/17");
  Volume* truncated = damage("v/29");
  truncated->write("v/29", values["v/29"].substr(0, 100));

  const auto found = run(args({"verify"}));
  INFO(found.err);
  CHECK(found.exit_code == 1);
  CHECK(contains(found.err, "verify: v/3 on " + flipped->url() + ": corrupt"));
  CHECK(contains(found.err, "verify: v/17 on " + deleted->url() + ": missing"));
  CHECK(contains(found.err, "verify: v/29 on " + truncated->url() + ": wrong size"));
  CHECK(contains(found.err, "good copies: 77\n"));
  CHECK(contains(found.err, "missing: 1\n"));
  CHECK(contains(found.err, "wrong size: 1\n"));
  CHECK(contains(found.err, "corrupt (checksum mismatch): 1\n"));
  CHECK(contains(found.err, "run `verify --repair`"));
  CHECK(flipped->read("v/3") == bytes);  // a verify without --repair changes nothing

  // --prefix limits the keys.
  const auto one = run(args({"verify", "--prefix", "v/1"}));
  CHECK(one.exit_code == 1);
  CHECK(contains(one.err, "checked 11 keys"));  // v/1 and v/10..v/19

  const auto repaired = run(args({"verify", "--repair", "--rate", "50", "--concurrency", "3"}));
  INFO(repaired.err);
  CHECK(repaired.exit_code == 0);
  CHECK(contains(repaired.err, "repaired: 3\n"));
  CHECK(contains(repaired.err, "every copy is good again"));
  CHECK(flipped->read("v/3") == values["v/3"]);
  CHECK(deleted->read("v/17") == values["v/17"]);
  CHECK(truncated->read("v/29") == values["v/29"]);
  for (const auto& v : c.volumes) {
    for (const auto& f : v->files()) CHECK(f.rfind("v/", 0) == 0);  // no staging file left
  }
  CHECK(run(args({"verify"})).exit_code == 0);

  // Both copies damaged: the key is lost, and nothing is made up.
  for (auto i : c.holders("v/5")) c.volumes[i]->write("v/5", "garbage");
  const auto lost = run(args({"verify", "--repair"}));
  CHECK(lost.exit_code == 1);
  CHECK(contains(lost.err, "verify: v/5: no good copy left"));
  CHECK(contains(lost.err, "lost (no good copy left): 1\n"));

  // A serve owns the index: verify runs inside it (tests/integration/online_test.cpp), and
  // finds the same.
  c.server->start();
  const auto online = run(args({"verify"}));
  CHECK(online.exit_code == 1);
  CHECK(contains(online.err, "running the job inside it"));
  CHECK(contains(online.err, "lost (no good copy left): 1\n"));
}

TEST_CASE("verify computes unknown checksums after a rebuild, and reports copies that disagree") {
  Cluster c;
  for (unsigned i = 0; i < 10; ++i) {
    REQUIRE(c.put("/u/" + std::to_string(i), value_of(3000, i)).status == 201);
  }
  REQUIRE(c.server->stop() == 0);
  remove_index(c.db());
  const auto args = [&](std::vector<std::string> command) {
    return mkv_args(c.db(), c.urls(), 2, std::move(command));
  };
  REQUIRE(run(args({"rebuild"})).exit_code == 0);
  // Same size, other bytes on one copy: with no checksum, mkv cannot tell which is right.
  const auto holders = c.holders("u/4");
  c.volumes[holders[0]]->write("u/4", value_of(3000, 99));

  const auto learned = run(args({"verify", "--repair"}));
  INFO(learned.err);
  CHECK(learned.exit_code == 1);
  CHECK(contains(learned.err, "checksums computed (were unknown): 9\n"));
  CHECK(contains(learned.err, "conflicts (copies disagree, checksum unknown): 1\n"));
  CHECK(contains(learned.err, "verify: u/4: its copies disagree"));

  c.server->start();
  CHECK(c.head("/u/1").header("etag") == etag(value_of(3000, 1)));
  CHECK(c.head("/u/4").header("etag").empty());  // unknown: no ETag
  CHECK(c.head("/u/4").status == 200);
}

TEST_CASE("rebalance copies from a good source and never propagates a corrupt one") {
  TempDir dir;
  const auto db = dir.path() / "index.db";
  std::vector<std::unique_ptr<Volume>> volumes;
  for (int i = 0; i < 2; ++i) volumes.push_back(std::make_unique<Volume>());
  const auto urls_of = [&] {
    std::vector<std::string> urls;
    for (const auto& v : volumes) urls.push_back(v->url());
    return urls;
  };
  std::map<std::string, std::string> values;
  {
    Server server(db, urls_of(), 2);
    for (unsigned i = 0; i < 60; ++i) {
      const std::string key = "m/" + std::to_string(i);
      values[key] = value_of(2000 + i, i);
      REQUIRE(request(server.port(), "PUT", "/" + key, values[key]).status == 201);
    }
  }
  // Two more volumes: about half the keys gain a copy elsewhere, from one of the old two. Every
  // key's first copy is corrupted; the odd keys' second copy too.
  for (int i = 0; i < 2; ++i) volumes.push_back(std::make_unique<Volume>());
  for (const auto& [key, value] : values) {
    const bool odd = std::stoi(key.substr(2)) % 2 == 1;
    std::string bad = value;
    bad[0] ^= 0x20;
    volumes[0]->write(key, bad);
    if (odd) volumes[1]->write(key, bad);
  }
  const auto moved = run(mkv_args(db, urls_of(), 2, {"rebalance"}));
  INFO(moved.err);
  CHECK(moved.exit_code == 1);  // the odd keys that had to move could not
  CHECK(contains(moved.err, "is corrupt: MD5"));

  // No copy on the new volumes is corrupt: every file there holds its key's true value.
  std::size_t copied = 0;
  for (std::size_t v = 2; v < volumes.size(); ++v) {
    for (const auto& f : volumes[v]->files()) {
      CAPTURE(f);
      REQUIRE(values.count(f) == 1);
      CHECK(volumes[v]->read(f) == values[f]);
      CHECK(std::stoi(f.substr(2)) % 2 == 0);
      ++copied;
    }
  }
  CHECK(copied > 0);
}

TEST_CASE("an index written by schema version 1 is served after its upgrade: no ETag or "
          "Last-Modified until the key is written again") {
  if (index_on_server()) {
    MESSAGE("skipped: the fixtures are SQLite and LMDB files of schema version 1, which the "
            << index_backend() << " index never had");
    return;
  }
  TempDir dir;
  const auto db = dir.path() / "index.db";
  std::filesystem::copy_file(std::string(MKV_TEST_FIXTURES) + "/v1." + index_backend(), db);
  std::vector<std::unique_ptr<Volume>> volumes;
  std::vector<std::string> urls;
  for (int i = 0; i < 3; ++i) {
    volumes.push_back(std::make_unique<Volume>());
    urls.push_back(volumes.back()->url());
  }
  Server server(db, urls, 2);
  // The records of commit e6cdbc1 (tests/index/fixtures/README), answered from the index.
  const auto old = request(server.port(), "HEAD", "/a/b");
  CHECK(old.status == 200);
  CHECK(old.header("content-length") == "1024");
  CHECK(old.header("etag").empty());
  CHECK(old.header("last-modified").empty());
  CHECK(request(server.port(), "HEAD", "/big").header("content-length") == "1099511627776");
  // Date conditions are ignored without a write time; * still matches the key.
  CHECK(request(server.port(), "HEAD", "/a/b", {}, {{"If-Modified-Since", mkv::format_http_date(
                                                        std::time(nullptr))}})
            .status == 200);
  CHECK(request(server.port(), "PUT", "/a/b", "x", {{"If-None-Match", "*"}}).status == 412);
  // Written again, the key has both.
  REQUIRE(request(server.port(), "PUT", "/a/b", "new value").status == 201);
  const auto rewritten = request(server.port(), "HEAD", "/a/b");
  CHECK(rewritten.header("etag") == etag("new value"));
  CHECK(!rewritten.header("last-modified").empty());
  const auto listed = request(server.port(), "GET", "/?prefix=bulk/&limit=10000");
  CHECK(listed.status == 200);
  CHECK(listed.body.find("\"bulk/99\"") != std::string::npos);
}
