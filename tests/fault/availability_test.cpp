// Staying available when a volume fails, on real nginx volumes and the real binary: a killed or
// frozen volume is seen down within 5 s, every key stays readable, PUTs fail fast (or, with
// --write-fallback, make r copies on live volumes), a returning volume is up again, and a volume
// configured without MOVE is unwritable from the start, with the directive named; the capability
// check never removes another server's check under way.
#include "fault.h"

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace mkv::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Returns the state /.mkv/health reports for the volume at url ("" if it is not listed).
std::string health_state(std::uint16_t port, const std::string& url) {
  const auto health = request(port, "GET", "/.mkv/health");
  REQUIRE(health.status == 200);
  const auto body = boost::json::parse(health.body).as_object();
  for (const auto& v : body.at("volumes").as_array()) {
    if (v.at("url").as_string() == url) return std::string(v.at("state").as_string());
  }
  return {};
}

// Returns the overall status /.mkv/health reports.
std::string health_status(std::uint16_t port) {
  const auto health = request(port, "GET", "/.mkv/health");
  return std::string(boost::json::parse(health.body).at("status").as_string());
}

// Waits until the volume at url is reported in state; returns how long that took.
Clock::duration wait_for_state(std::uint16_t port, const std::string& url, std::string_view state,
                               std::chrono::milliseconds limit = 10s) {
  const auto start = Clock::now();
  while (health_state(port, url) != state && Clock::now() - start < limit) {
    std::this_thread::sleep_for(50ms);
  }
  return Clock::now() - start;
}

// Stores `count` keys with distinct values; returns them by key.
std::map<std::string, std::string> store_keys(Cluster& c, int count) {
  std::map<std::string, std::string> stored;
  for (int i = 0; i < count; ++i) {
    const std::string key = "avail/" + std::to_string(i);
    const std::string value = "value of " + key + std::string(static_cast<std::size_t>(i) * 7, 'x');
    REQUIRE(c.put(target_of(key), value).status == 201);
    stored[key] = value;
  }
  return stored;
}

// Checks that every key reads back whole through the redirect, and never from the volume at
// dead_url while another copy exists.
void check_all_readable(Cluster& c, const std::map<std::string, std::string>& stored,
                        const std::string& dead_url) {
  for (const auto& [key, value] : stored) {
    CAPTURE(key);
    const auto redirect = c.get(target_of(key));
    REQUIRE(redirect.status == 302);
    CHECK(redirect.header("location").rfind(dead_url, 0) != 0);
    const auto blob = request_url(redirect.header("location"));
    CHECK(blob.status == 200);
    CHECK(blob.body == value);
  }
}

// Returns how long a PUT of value as key takes, and its response.
std::pair<Response, Clock::duration> timed_put(Cluster& c, const std::string& key,
                                               const std::string& value) {
  const auto start = Clock::now();
  auto response = c.put(target_of(key), value);
  return {std::move(response), Clock::now() - start};
}

}  // namespace

TEST_CASE("a killed volume: seen down within 5 s, every key readable, PUTs to it fail fast") {
  Cluster c;
  const auto urls = c.urls();
  const auto stored = store_keys(c, 40);
  CHECK(health_status(c.port()) == "ok");

  c.volumes[0]->kill9();
  const auto detected = wait_for_state(c.port(), urls[0], "down");
  CHECK(detected < 5s);
  CHECK(health_status(c.port()) == "degraded");
  check_all_readable(c, stored, urls[0]);
  // HEAD and listing answer from the index as before.
  CHECK(c.head(target_of("avail/3")).status == 200);

  const auto [put, took] = timed_put(c, key_placed_on(urls, 0, 2, std::nullopt, "fast"), "v");
  CHECK(put.status == 502);
  CHECK(put.body == "not all volume writes succeeded\n");
  CHECK(took < 1s);
  std::string elsewhere = "elsewhere";
  while (placed_on(elsewhere, urls, 0, 2)) elsewhere += "+";
  CHECK(c.put(target_of(elsewhere), "fine").status == 201);

  // A client that asks before sending its body is refused before it sends it.
  RawSocket s(c.port());
  REQUIRE(s.send("PUT " + target_of(key_placed_on(urls, 0, 2, std::nullopt, "ask")) +
                 " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
                 "Expect: 100-continue\r\n\r\n"));
  const auto reply = s.receive(2s);
  CHECK(first_status(reply) == 502);
  CHECK(reply.find("100 Continue") == std::string::npos);
}

TEST_CASE("a frozen volume costs one --volume-timeout, then is seen down and PUTs fail fast") {
  Cluster c(3, 2, {"--volume-timeout", "3000"});
  const auto urls = c.urls();
  const auto stored = store_keys(c, 20);
  c.volumes[1]->pause();

  // Before it is seen down, a PUT placed on it waits out the timeout once, not twice.
  const auto [first, first_took] =
      timed_put(c, key_placed_on(urls, 1, 2, std::nullopt, "hung"), "v");
  CHECK(first.status == 502);
  CHECK(first_took < 4500ms);

  const auto detected = wait_for_state(c.port(), urls[1], "down");
  CHECK(detected < 5s);
  const auto [later, later_took] =
      timed_put(c, key_placed_on(urls, 1, 2, std::nullopt, "later"), "v");
  CHECK(later.status == 502);
  CHECK(later_took < 1s);
  check_all_readable(c, stored, urls[1]);

  c.volumes[1]->resume();
  CHECK(wait_for_state(c.port(), urls[1], "up") < 6s);
  CHECK(health_status(c.port()) == "ok");
}

TEST_CASE("--write-fallback: with a volume down, PUTs make r copies on the next live volumes") {
  Cluster c(4, 2, {"--write-fallback"});
  const auto urls = c.urls();
  c.volumes[0]->kill9();
  REQUIRE(wait_for_state(c.port(), urls[0], "down") < 5s);

  for (int i = 0; i < 20; ++i) {
    const std::string key = key_placed_on(urls, 0, 2, std::nullopt, "fb" + std::to_string(i) + "-");
    const std::string value = "fallback value " + std::to_string(i);
    CAPTURE(key);
    REQUIRE(c.put(target_of(key), value).status == 201);
    const auto holders = c.holders(key);
    CHECK(holders.size() == 2);
    for (auto h : holders) {
      CHECK(h != 0);
      CHECK(c.volumes[h]->read(key) == value);
    }
    CHECK(c.fetch(target_of(key)) == value);
  }
  // Fewer than r volumes up: 503.
  c.volumes[1]->kill9();
  c.volumes[2]->kill9();
  REQUIRE(wait_for_state(c.port(), urls[2], "down") < 5s);
  REQUIRE(wait_for_state(c.port(), urls[1], "down") < 5s);
  const auto put = c.put(target_of("too/few"), "v");
  CHECK(put.status == 503);
  CHECK(put.body == "need 2 volumes but only 1 available\n");
}

TEST_CASE("a volume that comes back is checked and up again") {
  Cluster c;
  const auto urls = c.urls();
  c.volumes[2]->kill9();
  REQUIRE(wait_for_state(c.port(), urls[2], "down") < 5s);
  c.volumes[2]->start();
  CHECK(wait_for_state(c.port(), urls[2], "up") < 6s);
  CHECK(health_status(c.port()) == "ok");
  const std::string key = key_placed_on(urls, 2, 2, std::nullopt, "back");
  CHECK(c.put(target_of(key), "welcome back").status == 201);
  CHECK(c.volumes[2]->read(key) == "welcome back");
}

TEST_CASE("a volume without MOVE (the spec's nginx block) is unwritable from the start") {
  Cluster c(0, 2);
  c.server.reset();
  c.volumes.push_back(std::make_unique<Volume>());
  c.volumes.push_back(std::make_unique<Volume>());
  c.volumes.push_back(std::make_unique<Volume>(Fault::no_move));
  c.server = std::make_unique<Server>(c.db(), c.urls(), 2);
  const auto urls = c.urls();
  CHECK(health_state(c.port(), urls[2]) == "unwritable");
  CHECK(c.server->log().find(urls[2]) != std::string::npos);
  CHECK(c.server->log().find("dav_methods PUT DELETE MOVE;") != std::string::npos);
  // Writes that need it fail at once; the rest work, and reads from it work.
  const auto [put, took] = timed_put(c, key_placed_on(urls, 2, 2, std::nullopt, "nomove"), "v");
  CHECK(put.status == 502);
  CHECK(took < 1s);
  std::string elsewhere = "other";
  while (placed_on(elsewhere, urls, 2, 2)) elsewhere += "+";
  CHECK(c.put(target_of(elsewhere), "fine").status == 201);
}

TEST_CASE("the capability check leaves another server's check alone and removes old leftovers") {
  // Servers sharing volumes check them at the same moment (a restart of them all, a volume
  // that came back): one server's check must not remove the file another's is working on.
  Cluster c;
  c.server.reset();
  for (const auto& v : c.volumes) {
    v->write(".mkv/check/other-server", "mkv capability check\n");
    v->write(".mkv/check/cut-short.moved", "mkv capability check\n");
    const auto old = std::filesystem::last_write_time(v->data_dir() / ".mkv/check/other-server") -
                     std::chrono::hours(1);
    std::filesystem::last_write_time(v->data_dir() / ".mkv/check/cut-short.moved", old);
  }
  c.server = std::make_unique<Server>(c.db(), c.urls(), 2);
  for (const auto& url : c.urls()) CHECK(wait_for_state(c.port(), url, "up") < 5s);
  for (const auto& v : c.volumes) {
    CHECK(v->files() == std::vector<std::string>{".mkv/check/other-server"});
  }
}

TEST_CASE("/.mkv/health: JSON for GET, the length for HEAD, 405 for the rest") {
  Cluster c;
  const auto health = request(c.port(), "GET", "/.mkv/health");
  CHECK(health.status == 200);
  CHECK(health.header("content-type") == "application/json");
  const auto body = boost::json::parse(health.body).as_object();
  CHECK(body.at("status").as_string() == "ok");
  CHECK(body.at("index").as_string() == "ok");
  REQUIRE(body.at("volumes").as_array().size() == 3);
  for (const auto& v : body.at("volumes").as_array()) {
    CHECK(v.at("state").as_string() == "up");
    CHECK(v.at("since").as_string().size() == 20);  // 2026-11-30T10:00:00Z
  }
  const auto head = request(c.port(), "HEAD", "/.mkv/health");
  CHECK(head.status == 200);
  CHECK(head.header("content-length") == std::to_string(health.body.size()));
  const auto put = request(c.port(), "PUT", "/.mkv/health", "x");
  CHECK(put.status == 405);
  CHECK(put.header("allow") == "GET, HEAD");
}
