// The HTTP API against real nginx volumes: every operation, every status, every error text.
#include "cluster.h"

#include "mkv/key.h"
#include "mkv/placement.h"

#include <boost/json.hpp>

#include <string>
#include <vector>

using namespace mkv::test;

TEST_CASE("PUT stores the body on exactly the key's r placement volumes") {
  Cluster c;
  const auto put = c.put("/path/to/key", "contents");
  CHECK(put.status == 201);
  const auto placement = *mkv::volumes_for_key("path/to/key", c.urls(), 2);
  for (const auto& v : c.volumes) {
    const bool placed = std::find(placement.begin(), placement.end(), v->url()) != placement.end();
    CAPTURE(v->url());
    CHECK(v->has("path/to/key") == placed);
    if (placed) CHECK(v->read("path/to/key") == "contents");
  }
}

TEST_CASE("GET redirects to the first placement volume and never proxies the blob") {
  Cluster c;
  REQUIRE(c.put("/a/b", "hello").status == 201);
  const auto get = c.get("/a/b");
  CHECK(get.status == 302);
  CHECK(get.body.empty());
  const auto first = mkv::volumes_for_key("a/b", c.urls(), 2)->front();
  CHECK(get.header("location") == first + "/a/b");
  CHECK(c.fetch("/a/b") == "hello");
}

TEST_CASE("HEAD answers the size from the index") {
  Cluster c;
  REQUIRE(c.put("/sized", std::string(12345, 'z')).status == 201);
  const auto head = c.head("/sized");
  CHECK(head.status == 200);
  CHECK(head.header("content-length") == "12345");
  CHECK(head.body.empty());
  CHECK(c.head("/missing").status == 404);
}

TEST_CASE("an empty body is a valid 0-byte blob") {
  Cluster c;
  CHECK(c.put("/empty", "").status == 201);
  CHECK(c.head("/empty").header("content-length") == "0");
  CHECK(c.fetch("/empty").empty());
}

TEST_CASE("a chunked request body is stored whole") {
  Cluster c;
  int pieces = 0;
  std::string expected;
  const auto put = request_chunked(c.port(), "PUT", "/chunked", [&]() -> std::optional<std::string> {
    if (pieces == 50) return std::nullopt;
    std::string piece(1000 + pieces, static_cast<char>('a' + pieces % 26));
    expected += piece;
    ++pieces;
    return piece;
  });
  CHECK(put.status == 201);
  CHECK(c.head("/chunked").header("content-length") == std::to_string(expected.size()));
  CHECK(c.fetch("/chunked") == expected);
}

TEST_CASE("a body sent after Expect: 100-continue is stored") {
  Cluster c;
  const std::string body(3 * 1024 * 1024, 'e');
  const auto put = c.put("/expect", body, {{"Expect", "100-continue"}});
  CHECK(put.status == 201);
  CHECK(c.fetch("/expect") == body);
}

TEST_CASE("a multi-megabyte body round-trips byte for byte") {
  Cluster c;
  std::string body(20 * 1024 * 1024 + 7, '\0');
  std::uint32_t x = 12345;
  for (auto& ch : body) {
    x = x * 1664525u + 1013904223u;
    ch = static_cast<char>(x >> 24);
  }
  CHECK(c.put("/big/blob.bin", body).status == 201);
  CHECK(c.head("/big/blob.bin").header("content-length") == std::to_string(body.size()));
  CHECK(c.fetch("/big/blob.bin") == body);
}

TEST_CASE("PUT over an existing key replaces it on every replica and leaves no staging file") {
  Cluster c;
  REQUIRE(c.put("/k", "old value").status == 201);
  CHECK(c.put("/k", "the new value").status == 201);
  CHECK(c.fetch("/k") == "the new value");
  CHECK(c.head("/k").header("content-length") == "13");
  const auto holders = c.holders("k");
  CHECK(holders.size() == 2);
  for (auto i : holders) CHECK(c.volumes[i]->read("k") == "the new value");
  for (const auto& f : c.all_files()) CHECK(f.find("/.mkv/") == std::string::npos);
}

TEST_CASE("DELETE removes the record and the blobs") {
  Cluster c;
  REQUIRE(c.put("/gone", "x").status == 201);
  CHECK(c.del("/gone").status == 204);
  CHECK(c.get("/gone").status == 404);
  CHECK(c.head("/gone").status == 404);
  CHECK(c.holders("gone").empty());
  const auto again = c.del("/gone");
  CHECK(again.status == 404);
  CHECK(again.body == "not found\n");
}

TEST_CASE("errors are plain text with the spec's messages") {
  Cluster c;
  const auto missing = c.get("/nope");
  CHECK(missing.status == 404);
  CHECK(missing.body == "not found\n");
  CHECK(missing.header("content-type").starts_with("text/plain"));

  const auto bad = c.put("/a/../b", "x");
  CHECK(bad.status == 400);
  CHECK(bad.body == "invalid key: dot segment\n");

  const auto method = request(c.port(), "POST", "/a", "x");
  CHECK(method.status == 405);
  CHECK(method.header("allow") == "GET, HEAD, PUT, DELETE");
  CHECK(method.body == "method not allowed\n");

  const auto list_method = request(c.port(), "DELETE", "/");
  CHECK(list_method.status == 405);
  CHECK(list_method.header("allow") == "GET");

  const auto limit = c.get("/?limit=0");
  CHECK(limit.status == 400);
  CHECK(limit.body == "invalid query: limit must be a whole number from 1 to 10000\n");
}

TEST_CASE("PUT with fewer volumes than replicas gets 503, and the server still starts") {
  Cluster c(1, 2);
  const auto put = c.put("/k", "x");
  CHECK(put.status == 503);
  CHECK(put.body == "need 2 volumes but only 1 available\n");
  CHECK(c.get("/k").status == 404);
  CHECK(c.volumes[0]->files().empty());
}

TEST_CASE("key-as-path conflicts get 409 and write nothing") {
  Cluster c;
  REQUIRE(c.put("/a/b", "child").status == 201);
  const auto parent = c.put("/a", "parent");
  CHECK(parent.status == 409);
  CHECK(parent.body == "key conflict: \"a/b\" exists below \"a\", so it cannot be stored as a blob\n");
  REQUIRE(c.put("/x", "file").status == 201);
  const auto child = c.put("/x/y/z", "below a file");
  CHECK(child.status == 409);
  CHECK(child.body == "key conflict: \"x\" exists, so \"x/y/z\" cannot be stored below it\n");
  CHECK(c.get("/a").status == 404);
  CHECK(c.get("/x/y/z").status == 404);
  CHECK(c.holders("x/y/z").empty());
  // Once the colliding key is gone, the other may be stored.
  REQUIRE(c.del("/x").status == 204);
  CHECK(c.put("/x/y/z", "now fine").status == 201);
}

namespace {

struct Page {
  std::vector<std::string> keys;
  std::string next;
};

Page list(Cluster& c, const std::string& query) {
  const auto r = c.get("/" + query);
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "application/json");
  const auto json = boost::json::parse(r.body).as_object();
  Page page;
  for (const auto& k : json.at("keys").as_array()) page.keys.emplace_back(k.as_string());
  page.next = std::string(json.at("next").as_string());
  return page;
}

}  // namespace

TEST_CASE("listing filters by prefix, pages with limit and start, in byte order") {
  Cluster c;
  const std::vector<std::string> keys = {"b/1", "b/2", "b/3", "b/10", "a", "c/x", "b/\xC3\xA9"};
  for (const auto& k : keys) REQUIRE(c.put("/" + mkv::encode_key(k), k).status == 201);

  CHECK(list(c, "").keys == std::vector<std::string>{"a", "b/1", "b/10", "b/2", "b/3",
                                                     "b/\xC3\xA9", "c/x"});
  const auto first = list(c, "?prefix=b/&limit=2");
  CHECK(first.keys == std::vector<std::string>{"b/1", "b/10"});
  CHECK(first.next == "b/2");
  const auto second = list(c, "?prefix=b/&limit=2&start=" + mkv::encode_key(first.next));
  CHECK(second.keys == std::vector<std::string>{"b/2", "b/3"});
  const auto third = list(c, "?prefix=b/&limit=2&start=" + mkv::encode_key(second.next));
  CHECK(third.keys == std::vector<std::string>{"b/\xC3\xA9"});
  CHECK(third.next == "");
  CHECK(list(c, "?prefix=zzz").keys.empty());
  CHECK(list(c, "?start=c").keys == std::vector<std::string>{"c/x"});
  CHECK(list(c, "?prefix=b/%C3%A9").keys == std::vector<std::string>{"b/\xC3\xA9"});
}

TEST_CASE("keep-alive: many requests share one client connection") {
  Cluster c;
  Connection conn(c.port());
  for (int i = 0; i < 50; ++i) {
    const std::string target = "/ka/" + std::to_string(i);
    CHECK(conn.request("PUT", target, "v" + std::to_string(i)).status == 201);
    CHECK(conn.request("HEAD", target).status == 200);
    CHECK(conn.request("GET", target).status == 302);
    CHECK(conn.is_open());
  }
}
