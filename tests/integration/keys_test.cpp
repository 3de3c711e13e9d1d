// Keys over HTTP: awkward keys round-trip exactly, unsafe ones are refused and write nothing.
#include "cluster.h"

#include "mkv/key.h"

#include <string>
#include <vector>

using namespace mkv::test;

TEST_CASE("awkward keys round-trip and the redirect re-encodes them") {
  Cluster c;
  struct Case {
    std::string target;  // as the client sends it
    std::string key;     // the decoded key, as stored on the volume
  };
  const std::vector<Case> cases = {
      {"/with%20space", "with space"},
      {"/100%25/done", "100%/done"},
      {"/a+b", "a+b"},
      {"/what%3F", "what?"},
      {"/hash%23tag", "hash#tag"},
      {"/%C3%BCber/%E2%82%AC", "\xC3\xBC" "ber/\xE2\x82\xAC"},
      {"/quote%22s'", "quote\"s'"},
      {"/amp&semi;eq=", "amp&semi;eq="},
      {"/dots.../in.the/middle.", "dots.../in.the/middle."},
      {"/" + std::string(255, 'L'), std::string(255, 'L')},
  };
  for (const auto& kase : cases) {
    CAPTURE(kase.target);
    const std::string body = "body of " + kase.key;
    REQUIRE(c.put(kase.target, body).status == 201);
    const auto get = c.get(kase.target);
    REQUIRE(get.status == 302);
    CHECK(get.header("location").ends_with("/" + mkv::encode_key(kase.key)));
    CHECK(c.fetch(kase.target) == body);
    // The file sits at exactly the key's path on both replicas.
    CHECK(c.holders(kase.key).size() == 2);
    // Re-encoding the decoded key reaches the same record.
    CHECK(c.head("/" + mkv::encode_key(kase.key)).status == 200);
  }
}

TEST_CASE("unsafe keys get 400 with a reason and never touch a volume") {
  Cluster c;
  struct Case {
    std::string target;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"/a/../b", "invalid key: dot segment"},
      {"/..", "invalid key: dot segment"},
      {"/%2e%2e/etc/passwd", "invalid key: dot segment"},
      {"/%2E%2e%2fetc", "invalid key: dot segment"},
      {"/a/%2e%2E/b", "invalid key: dot segment"},
      {"/x/./y", "invalid key: dot segment"},
      {"/a//b", "invalid key: empty path segment"},
      {"/trailing/", "invalid key: trailing slash"},
      {"/nul%00", "invalid key: control character in key"},
      {"/ctl%1F", "invalid key: control character in key"},
      {"/bad%zz", "invalid key: malformed percent-escape"},
      {"/cut%4", "invalid key: malformed percent-escape"},
      {"/latin1%E9", "invalid key: key is not valid UTF-8"},
      {"/" + std::string(256, 'L'), "invalid key: path segment is longer than 255 bytes"},
      {"/" + std::string(200, 'a') + "/" + std::string(200, 'b') + "/" + std::string(200, 'c') +
           "/" + std::string(200, 'd') + "/" + std::string(200, 'e') + "/" + std::string(30, 'f'),
       "invalid key: key is longer than 1024 bytes"},
      {"/.mkv/staging/x", "invalid key: path segment starts with '.'"},
      {"/.env", "invalid key: path segment starts with '.'"},
      {"/a?b=c", "invalid key: query string not allowed (write '?' as %3F)"},
  };
  for (const auto& kase : cases) {
    CAPTURE(kase.target);
    for (const char* method : {"PUT", "GET", "HEAD", "DELETE"}) {
      CAPTURE(method);
      const auto r = request(c.port(), method, kase.target, std::string_view(method) == "PUT" ? "x" : "");
      CHECK(r.status == 400);
      if (std::string_view(method) != "HEAD") CHECK(r.body == kase.message + "\n");
    }
  }
  CHECK(c.all_files().empty());
}

TEST_CASE("raw traversal bytes on the wire are refused too") {
  Cluster c;
  for (const std::string target : {"/../../etc/passwd", "/a/%2e%2e/%2e%2e/etc/passwd"}) {
    CAPTURE(target);
    const auto reply = raw_exchange(c.port(),
                                    "PUT " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                    "Connection: close\r\n\r\nx",
                                    std::chrono::milliseconds(3000));
    CHECK(reply.starts_with("HTTP/1.1 400"));
  }
  CHECK(c.all_files().empty());
}
