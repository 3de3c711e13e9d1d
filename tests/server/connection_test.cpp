// A whole server in process: its listener and connection coroutine on a loopback socket, the
// native API against real nginx volumes, 503 once the server is stopping, and a topology that
// is replaced while it serves.
#include "in_process.h"

#include "mkv/placement.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using namespace mkv;
using namespace mkv::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> urls_of(const std::vector<std::unique_ptr<test::Volume>>& volumes) {
  std::vector<std::string> urls;
  for (const auto& v : volumes) urls.push_back(v->url());
  return urls;
}

std::vector<std::unique_ptr<test::Volume>> start_volumes(int count) {
  std::vector<std::unique_ptr<test::Volume>> volumes;
  for (int i = 0; i < count; ++i) volumes.push_back(std::make_unique<test::Volume>());
  return volumes;
}

}  // namespace

TEST_CASE("the native API through the in-process listener") {
  auto volumes = start_volumes(3);
  InProcessServer server(topology_of(urls_of(volumes), 2));
  const auto port = server.port();

  CHECK(request(port, "PUT", "/a/b", "contents").status == 201);
  const auto head = request(port, "HEAD", "/a/b");
  CHECK(head.status == 200);
  CHECK(head.header("content-length") == "8");
  const auto redirect = request(port, "GET", "/a/b");
  REQUIRE(redirect.status == 302);
  CHECK(request_url(redirect.header("location")).body == "contents");
  CHECK(request(port, "GET", "/?prefix=a/").body == R"({"keys":["a/b"],"next":""})");
  CHECK(request(port, "DELETE", "/a/b").status == 204);

  const auto missing = request(port, "GET", "/a/b");
  CHECK(missing.status == 404);
  CHECK(missing.body == "not found\n");
  const auto bad = request(port, "GET", "/a/../b");
  CHECK(bad.status == 400);
  CHECK(bad.body == "invalid key: dot segment\n");
  CHECK(request(port, "POST", "/a").status == 405);
  const auto junk = raw_exchange(port, "NOT HTTP\r\n\r\n", 2s);
  CHECK(junk.starts_with("HTTP/1.1 400 Bad Request"));
}

TEST_CASE("a request that arrives while the server is stopping gets 503") {
  auto volumes = start_volumes(1);
  InProcessServer server(topology_of(urls_of(volumes), 1));
  test::Connection client(server.port());
  CHECK(client.request("PUT", "/k", "v").status == 201);
  server.app().gate.close();
  const auto refused = client.request("GET", "/k");
  CHECK(refused.status == 503);
  CHECK(refused.body == "server is shutting down\n");
  CHECK(refused.header("connection") == "close");
  CHECK_FALSE(client.is_open());
}

TEST_CASE("a topology replaced while serving places new writes; old records stay readable") {
  auto volumes = start_volumes(4);
  const auto urls = urls_of(volumes);
  const std::vector<std::string> first(urls.begin(), urls.begin() + 2);
  const std::vector<std::string> second(urls.begin() + 2, urls.end());
  InProcessServer server(topology_of(first, 2));
  const auto port = server.port();

  REQUIRE(request(port, "PUT", "/before", "old").status == 201);
  server.app().topology.replace(topology_of(second, 2));
  REQUIRE(request(port, "PUT", "/after", "new").status == 201);

  // Each key went to the topology in force when its PUT began.
  CHECK(volumes[0]->has("before"));
  CHECK(volumes[1]->has("before"));
  CHECK(volumes[2]->has("after"));
  CHECK(volumes[3]->has("after"));
  CHECK_FALSE(volumes[2]->has("before"));
  // A record naming volumes the topology no longer lists is still served and deleted.
  const auto redirect = request(port, "GET", "/before");
  REQUIRE(redirect.status == 302);
  CHECK(request_url(redirect.header("location")).body == "old");
  CHECK(request(port, "DELETE", "/before").status == 204);
  CHECK_FALSE(volumes[0]->has("before"));
  CHECK_FALSE(volumes[1]->has("before"));
}
