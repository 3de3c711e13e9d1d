// HTTP abuse against `mkv serve`: oversized header blocks, thousands of headers, invalid
// methods, Content-Length that disagrees with the body, broken chunked encoding, slowloris,
// the connection limit and absurd list parameters. Each gets a clear 4xx or a closed
// connection, never a crash, and never a stored blob other than what the request declared.
#include "fault.h"

#include <boost/json.hpp>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace mkv::test;
using namespace std::chrono_literals;

namespace {

// Returns the status of the reply to raw request bytes (0 if the connection closed without one).
unsigned status_of(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds wait = 5s) {
  return first_status(raw_exchange(port, bytes, wait));
}

// Returns the body of a raw reply (after the blank line).
std::string body_of(const std::string& raw) {
  const auto at = raw.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : raw.substr(at + 4);
}

// Returns whether the server still answers a plain request.
bool alive(const Cluster& c) {
  try {
    return request(c.port(), "GET", "/?limit=1", {}, {}, 5s).status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

TEST_CASE("a 1 MB header block and 10k headers get 400 and the server goes on") {
  Cluster c;
  {
    const std::string big = "GET /a HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1 << 20, 'a') + "\r\n\r\n";
    const auto reply = raw_exchange(c.port(), big, 5s);
    CHECK(first_status(reply) == 400);
    CHECK(body_of(reply).starts_with("bad request: "));
  }
  {
    std::string many = "PUT /many HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n";
    for (int i = 0; i < 10000; ++i) many += "X-Header-" + std::to_string(i) + ": value\r\n";
    many += "\r\nx";
    CHECK(status_of(c.port(), many) == 400);
  }
  {
    // 10k tiny headers still within the 64 KiB block: served normally (the block limit is what
    // bounds the work a header costs).
    std::string tiny = "GET /tiny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    for (int i = 0; i < 10000; ++i) tiny += "a:b\r\n";
    tiny += "\r\n";
    REQUIRE(tiny.size() < 64 * 1024);
    const unsigned status = status_of(c.port(), tiny);
    CHECK((status == 404 || status == 400 || status == 431));
  }
  {
    // A single header line just under the limit is fine.
    const std::string ok = "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Long: " +
                           std::string(60 * 1024, 'a') + "\r\n\r\n";
    CHECK(status_of(c.port(), ok) == 404);
  }
  CHECK(c.all_files().empty());
  CHECK(alive(c));
}

TEST_CASE("invalid and unsupported methods get 405 or 400") {
  Cluster c;
  struct Case {
    std::string method;
    std::string target;
    unsigned status;
  };
  const std::vector<Case> cases = {
      {"POST", "/a", 405},     {"PATCH", "/a", 405},  {"OPTIONS", "/a", 405},
      {"TRACE", "/a", 405},    {"MOVE", "/a", 405},   {"COPY", "/a", 405},
      {"PROPFIND", "/a", 405}, {"MKCOL", "/a", 405},  {"get", "/a", 405},
      {"FOO", "/a", 405},      {"PUT", "/", 405},     {"DELETE", "/", 405},
      {"HEAD", "/", 405},      {"CONNECT", "127.0.0.1:80", 405},
      {"OPTIONS", "*", 405},   {"G(T", "/a", 400},   {"GE\x01T", "/a", 400},
      {"G\"T", "/a", 400},     {std::string(300, 'M'), "/a", 405},
  };
  for (const auto& kase : cases) {
    CAPTURE(kase.method);
    const std::string bytes = kase.method + " " + kase.target +
                              " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx";
    const auto reply = raw_exchange(c.port(), bytes, 5s);
    CHECK(first_status(reply) == kase.status);
    if (kase.status == 405) CHECK(reply.find("\r\nAllow: ") != std::string::npos);
  }
  CHECK(c.all_files().empty());
  CHECK(alive(c));
}

TEST_CASE("Content-Length that disagrees with the body, or with itself") {
  Cluster c(3, 2, {"--client-timeout", "2"});

  SUBCASE("a body shorter than declared: 400 after the client timeout, nothing stored") {
    RawSocket s(c.port());
    REQUIRE(s.send("PUT /short HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly 20 bytes here.."));
    const auto start = std::chrono::steady_clock::now();
    bool closed = false;
    const auto reply = s.receive(10s, &closed);
    CHECK(closed);
    CHECK(std::chrono::steady_clock::now() - start < 6s);
    const unsigned status = first_status(reply);
    CHECK((status == 0 || status == 400));
    CHECK(c.head("/short").status == 404);
    CHECK(eventually([&] { return c.all_files().empty(); }));
  }
  SUBCASE("a body longer than declared: the declared bytes are the blob, the rest is refused "
          "as the next request") {
    const auto reply = raw_exchange(c.port(),
        "PUT /long HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdefgh\r\n\r\n", 3s);
    CHECK(first_status(reply) == 201);
    CHECK(response_count(reply) == 2);
    CHECK(reply.find("HTTP/1.1 400") != std::string::npos);
    CHECK(c.fetch("/long") == "abc");
    for (auto i : c.holders("long")) CHECK(c.volumes[i]->read("long") == "abc");
  }
  SUBCASE("a body far larger than declared: a 10-byte blob, then 400 and close") {
    const std::string bytes = "PUT /flood HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n" +
                              std::string(5 * 1024 * 1024, 'F');
    const auto reply = raw_exchange(c.port(), bytes, 3s);
    CHECK(first_status(reply) == 201);
    CHECK(c.head("/flood").header("content-length") == "10");
    for (auto i : c.holders("flood")) CHECK(c.volumes[i]->read("flood") == std::string(10, 'F'));
  }
  SUBCASE("conflicting, repeated, negative, huge or non-numeric Content-Length: 400") {
    for (const std::string header :
         {"Content-Length: 3\r\nContent-Length: 4", "Content-Length: 3, 4", "Content-Length: -1",
          "Content-Length: 99999999999999999999999", "Content-Length: 0x10",
          "Content-Length: 1e3", "Content-Length: ", "Content-Length: 3 3",
          "Content-Length: 3\r\nTransfer-Encoding: chunked"}) {
      CAPTURE(header);
      const auto status = status_of(c.port(), "PUT /cl HTTP/1.1\r\nHost: x\r\n" + header +
                                                  "\r\nConnection: close\r\n\r\nabcd", 3s);
      CHECK(status == 400);
    }
    CHECK(c.head("/cl").status == 404);
  }
  CHECK(eventually([&] {
    for (const auto& f : c.all_files()) {
      if (f.find("/.mkv/") != std::string::npos) return false;
    }
    return true;
  }));
  CHECK(alive(c));
}

TEST_CASE("broken chunked encoding gets 400 and stores nothing") {
  Cluster c(3, 2, {"--client-timeout", "2"});
  const std::vector<std::string> bodies = {
      "zz\r\nabc\r\n0\r\n\r\n",                   // not hex
      "3\r\nabcdef\r\n0\r\n\r\n",                 // chunk longer than its size
      "3\r\nabc0\r\n\r\n",                         // no CRLF after the data
      "ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",  // size overflows 64 bits
      "-3\r\nabc\r\n0\r\n\r\n",                   // negative size
      "3;" + std::string(4 << 20, 'e') + "\r\nabc\r\n0\r\n\r\n",  // endless extension
      "3\r\nabc\r\n0\r\nX: " + std::string(4 << 20, 't') + "\r\n\r\n",  // endless trailer
      "3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n",    // malformed trailer
  };
  const long rss_before = rss_kib(c.server->pid());
  for (const auto& body : bodies) {
    CAPTURE(body.substr(0, 40));
    const auto status = status_of(c.port(),
        "PUT /chunky HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body, 4s);
    CHECK((status == 400 || status == 0));
    CHECK(c.head("/chunky").status == 404);
  }
  // Memory stays bounded: the endless extension and trailer were cut, not buffered.
  CHECK(rss_kib(c.server->pid()) < rss_before + 32 * 1024);
  // Transfer codings other than a lone chunked: the body would be stored still encoded, or
  // has no knowable length.
  for (const std::string te : {"gzip", "chunked, gzip", "gzip, chunked", "identity, chunked, chunked",
                               "chunked;x", "chunked\r\nTransfer-Encoding: chunked"}) {
    CAPTURE(te);
    const auto status = status_of(c.port(), "PUT /te HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                                                "\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 4s);
    CHECK(status >= 400);
    CHECK(status < 500);
  }
  CHECK(eventually([&] { return c.all_files().empty(); }));
  CHECK(alive(c));
}

TEST_CASE("slowloris: connections trickling a header byte by byte are cut by the timeout while "
          "other clients are served at once") {
  Cluster c(3, 2, {"--client-timeout", "3"});
  REQUIRE(c.put("/served", "yes").status == 201);
  constexpr int slow_count = 200;
  std::vector<std::unique_ptr<RawSocket>> slow;
  for (int i = 0; i < slow_count; ++i) {
    slow.push_back(std::make_unique<RawSocket>(c.port()));
    REQUIRE(slow.back()->connected());
    REQUIRE(slow.back()->send("GET /served HTTP/1.1\r\n"));
  }
  // A slow body too: a PUT declaring 1000 bytes that sends one a second.
  RawSocket slow_body(c.port());
  REQUIRE(slow_body.send("PUT /trickle HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"));
  // An idle keep-alive connection that never sends anything.
  RawSocket idle(c.port());

  const auto start = std::chrono::steady_clock::now();
  std::vector<bool> cut(slow_count, false);
  int served = 0;
  std::chrono::steady_clock::duration slowest{};
  for (int round = 0; round < 7; ++round) {
    for (int i = 0; i < slow_count; ++i) {
      if (!cut[i] && !slow[i]->send("X")) cut[i] = true;
    }
    (void)slow_body.send("b");
    for (int i = 0; i < 20; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      if (request(c.port(), "HEAD", "/served", {}, {}, 5s).status == 200) ++served;
      slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
    }
    std::this_thread::sleep_for(1s);
  }
  CHECK(served == 7 * 20);
  CHECK(slowest < 500ms);
  MESSAGE("slowest request beside " << slow_count << " slow connections: "
          << std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count() << " ms");
  // By now (7 s > 3 s timeout) the server has closed every trickling connection.
  int still_open = 0;
  for (int i = 0; i < slow_count; ++i) {
    if (!slow[i]->closed_by_peer(1s)) ++still_open;
  }
  CHECK(still_open == 0);
  bool body_closed = false;
  const auto body_reply = slow_body.receive(1s, &body_closed);
  CHECK(body_closed);
  CHECK((first_status(body_reply) == 400 || first_status(body_reply) == 0));
  CHECK(idle.closed_by_peer(1s));
  CHECK(std::chrono::steady_clock::now() - start < 15s);
  CHECK(c.head("/trickle").status == 404);
  CHECK(eventually([&] { return c.holders("trickle").empty(); }));
  CHECK(alive(c));
}

TEST_CASE("a slow but steady upload is not cut: the client timeout is for stalls, not for a "
          "whole body piece") {
  Cluster c(3, 2, {"--client-timeout", "2"});
  constexpr std::size_t total = 160 * 1024;
  RawSocket s(c.port());
  REQUIRE(s.send("PUT /steady HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(total) +
                 "\r\n\r\n"));
  // 4 KiB every 100 ms: 40 KiB/s, 4 s in all, never silent for more than 0.1 s.
  bool open = true;
  for (std::size_t sent = 0; sent < total && open; sent += 4096) {
    open = s.send(std::string(4096, 's'));
    std::this_thread::sleep_for(100ms);
  }
  CHECK(open);
  CHECK(first_status(s.receive(5s)) == 201);
  CHECK(c.head("/steady").header("content-length") == std::to_string(total));
}

TEST_CASE("the connection limit: connections over --max-connections are closed at once, and "
          "served again when others leave") {
  Cluster c(3, 2, {"--max-connections", "20"});
  std::vector<std::unique_ptr<RawSocket>> held;
  for (int i = 0; i < 20; ++i) {
    held.push_back(std::make_unique<RawSocket>(c.port()));
    REQUIRE(held.back()->connected());
  }
  // Each held connection answered once: the server has accepted and counted all of them (a
  // fixed wait was not always enough on a loaded machine). One that was refused because the
  // server had not yet counted out the harness's own start-up connection is made again.
  for (auto& h : held) REQUIRE(h->send("GET /?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (auto& h : held) {
    std::string reply;
    for (int attempt = 1;; ++attempt) {
      bool closed = false;
      reply.clear();
      for (int i = 0; i < 50 && reply.empty() && !closed; ++i) reply = h->receive(100ms, &closed);
      if (first_status(reply) == 200 || attempt == 5) break;
      std::this_thread::sleep_for(200ms);
      h = std::make_unique<RawSocket>(c.port());
      REQUIRE(h->send("GET /?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    REQUIRE(first_status(reply) == 200);
  }
  {
    RawSocket over(c.port());
    (void)over.send("GET /?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    bool closed = false;
    const auto reply = over.receive(3s, &closed);
    CHECK(closed);
    CHECK(first_status(reply) == 0);
  }
  // The held connections are still served.
  REQUIRE(held[0]->send("GET /?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(first_status(held[0]->receive(1s)) == 200);
  held.resize(10);
  CHECK(eventually([&] { return alive(c); }));
  CHECK(alive(c));
}

TEST_CASE("absurd list parameters get 400; extreme but valid ones are answered") {
  Cluster c;
  for (int i = 0; i < 5; ++i) REQUIRE(c.put("/l/" + std::to_string(i), "x").status == 201);
  for (const std::string query :
       {"?limit=0", "?limit=-1", "?limit=10001", "?limit=99999999999999999999999999",
        "?limit=1e3", "?limit=0x10", "?limit=", "?limit", "?limit=10%00", "?limit=+5",
        "?limit=5&limit=5", "?prefix=a&prefix=b", "?start=a&start=b", "?bogus=1", "?prefix=%",
        "?prefix=%zz", "?prefix=a%00", "?start=%0D%0A", "?limit=18446744073709551617"}) {
    CAPTURE(query);
    const auto r = c.get("/" + query);
    CHECK(r.status == 400);
    CHECK(r.body.starts_with("invalid query: "));
  }
  struct Valid {
    std::string query;
    std::size_t keys;
  };
  const std::string far(60000, 'z');
  for (const auto& v : std::vector<Valid>{{"?limit=10000", 5},
                                          {"?limit=1", 1},
                                          {"?start=" + far, 0},
                                          {"?prefix=" + far, 0},
                                          {"?prefix=%FF%FF%FF", 0},
                                          {"?start=%FF", 0},
                                          {"?prefix=l/&start=l/3", 2},
                                          {"?prefix=&start=&limit=3", 3},
                                          {"?&&prefix=l/&&", 5}}) {
    CAPTURE(v.query.substr(0, 60));
    const auto r = c.get("/" + v.query);
    REQUIRE(r.status == 200);
    CHECK(boost::json::parse(r.body).at("keys").as_array().size() == v.keys);
  }
  CHECK(alive(c));
}

TEST_CASE("pipelined requests are answered in order, and HTTP/1.0 closes after one") {
  Cluster c;
  REQUIRE(c.put("/p", "x").status == 201);
  std::string pipeline;
  for (int i = 0; i < 100; ++i) pipeline += "HEAD /p HTTP/1.1\r\nHost: x\r\n\r\n";
  pipeline += "GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const auto reply = raw_exchange(c.port(), pipeline, 5s);
  CHECK(response_count(reply) == 101);
  CHECK(reply.rfind("HTTP/1.1 404") != std::string::npos);

  RawSocket old(c.port());
  REQUIRE(old.send("HEAD /p HTTP/1.0\r\n\r\n"));
  bool closed = false;
  const auto answer = old.receive(3s, &closed);
  CHECK(answer.starts_with("HTTP/1.0 200"));
  CHECK(closed);
}

TEST_CASE("Expect: 100-continue with a refused key answers at once without reading the body") {
  Cluster c;
  RawSocket s(c.port());
  REQUIRE(s.send("PUT /../x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
                 "Expect: 100-continue\r\n\r\n"));
  const auto reply = s.receive(2s);
  CHECK(first_status(reply) == 400);
  CHECK(reply.find("100 Continue") == std::string::npos);
  CHECK(c.all_files().empty());
}
