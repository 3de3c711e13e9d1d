// Hostile request targets, sent byte for byte on the wire: path traversal in every spelling,
// NUL and control bytes, malformed escapes, over-long keys and segments, targets that are not
// paths. Each gets a clear 4xx (never a crash), and no request ever creates a file outside a
// volume's root. Spellings that decode to harmless names are stored literally, inside it.
#include "fault.h"

#include <set>
#include <string>
#include <vector>

using namespace mkv::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Sends one request with a raw target and returns the status of the answer (0: none).
unsigned send_raw(std::uint16_t port, std::string_view method, std::string_view target,
                  std::string_view body = "x") {
  std::string request(method);
  request += ' ';
  request += target;
  request += " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ";
  request += std::to_string(body.size());
  request += "\r\n\r\n";
  request += body;
  return first_status(raw_exchange(port, request, 5s));
}

// Returns every entry under dir (recursively), as paths relative to it.
std::set<std::string> tree(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out.insert(e.path().lexically_relative(dir).generic_string());
  }
  return out;
}

// Returns "/" followed by parts joined with '/'. (Built by appending: GCC 12 warns
// -Wrestrict falsely on "/" + std::string(...).)
std::string slash_joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += '/';
    out += p;
  }
  return out;
}

// The name every escape attempt below aims to create outside a volume's root.
constexpr std::string_view escape = "mkv-escaped-here";

}  // namespace

TEST_CASE("traversal, control bytes, malformed escapes and over-long keys get 400 on every "
          "method and write nothing anywhere") {
  Cluster c;
  const std::string e(escape);
  const std::vector<std::string> refused = {
      // dot segments, plain and percent-encoded in every case mix
      "/..", "/../" + e, "/../../../../tmp/" + e, "/a/../../" + e, "/a/b/../../../" + e,
      "/./" + e, "/a/./" + e, "/a/.", "/.", "/a/..",
      "/%2e%2e/" + e, "/%2E%2E/" + e, "/%2e%2E/" + e, "/%2E./" + e, "/.%2e/" + e,
      "/%2e%2e%2f" + e, "/%2E%2E%2F%2E%2E%2F" + e, "/a%2f..%2f..%2f" + e,
      "/a/%2e%2e%2f%2e%2e%2f" + e, "/..%2f" + e, "/%2e/" + e, "/a/%2e",
      // dot-prefixed names (hidden from autoindex) and the reserved directory
      "/.env", "/a/.hidden", "/.mkv/staging/" + e, "/%2emkv/staging/x", "/..." + e,
      "/..\\" + e,
      // overlong UTF-8 forms of '.' and '/' (must not decode to them)
      "/%C0%AE%C0%AE/" + e, "/%C0%2E%C0%2E/" + e, "/%E0%80%AE%E0%80%AE/" + e,
      "/a%C0%AF..%C0%AF" + e, "/%C1%9C" + e,
      // NUL, control bytes, CR/LF (no header injection towards the volumes)
      "/a%00", "/%00/" + e, "/a%00/../" + e, "/a%01b", "/a%1Fb", "/a%7Fb", "/a%0D%0ASet: x",
      "/a%0d%0aLocation:%20http://evil/", "/tab%09", "/a%0Ab",
      // malformed escapes
      "/%", "/a%", "/a%4", "/a%zz", "/a%%41", "/a%g0", "/a%-1", "/a%+1", "/%%2e%2e/" + e,
      // empty segments and slashes
      "//" + e, "/a//b", "/a/", "///", "/a/b/",
      // invalid UTF-8
      "/%FF", "/%C3", "/%ED%A0%80", "/%F4%90%80%80",
      // length limits: a 256-byte segment, a 1025-byte key
      slash_joined({std::string(256, 's')}),
      slash_joined({std::string(255, 'a'), std::string(255, 'b'), std::string(255, 'c'),
                    std::string(255, 'd'), std::string(2, 'e')}),
      // not a path at all
      "http://127.0.0.1/" + e, "" + e, "*",
      // query strings on a key
      "/a?b", "/a?", "/" + e + "?x=../../",
  };
  for (const auto& target : refused) {
    CAPTURE(target);
    for (const char* method : {"PUT", "GET", "HEAD", "DELETE"}) {
      CAPTURE(method);
      const unsigned status = send_raw(c.port(), method, target);
      CHECK(status >= 400);
      CHECK(status < 500);
    }
  }
  CHECK(c.all_files().empty());
  // Nothing escaped a volume's root: the directories around each data root hold only what
  // nginx itself keeps there, and no file of that name appeared anywhere nearby.
  for (const auto& v : c.volumes) {
    const fs::path base = v->data_dir().parent_path();
    for (const auto& entry : fs::directory_iterator(base)) {
      const auto name = entry.path().filename().string();
      CAPTURE(name);
      CHECK((name == "data" || name == "tmp" || name == "nginx.conf" || name == "nginx.out" ||
             name == "error.log" || name == "nginx.pid"));
    }
    CHECK(!fs::exists(base.parent_path() / e));
  }
  CHECK(!fs::exists(fs::path("/tmp") / e));
  CHECK(!fs::exists(fs::path("/") / e));
  // The server is alive and well.
  CHECK(c.put("/alive", "yes").status == 201);
}

TEST_CASE("raw NUL, control and non-token bytes in the request line get 400 or a closed "
          "connection, never a crash") {
  Cluster c;
  const std::vector<std::string> lines = {
      std::string("PUT /a\0b HTTP/1.1", 17), "PUT /a\x01 HTTP/1.1", "PUT /a\x7f HTTP/1.1",
      "PUT /a\tb HTTP/1.1", "PUT /a b HTTP/1.1", "PUT /\xff\xfe HTTP/1.1", "PUT  /a HTTP/1.1",
      "PUT /a HTTP/1.1 extra", "PUT /a HTTP/2.0", "PUT /a HTTP/1.10", "PUT /a HTTPS/1.1",
      "PUT /a", "PUT", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  // a TLS ClientHello
  };
  for (const auto& line : lines) {
    CAPTURE(line);
    const auto reply = raw_exchange(c.port(), line + "\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", 3s);
    const unsigned status = first_status(reply);
    CHECK((status == 0 || (status >= 400 && status < 500)));
  }
  CHECK(c.all_files().empty());
  CHECK(c.put("/alive", "yes").status == 201);
}

TEST_CASE("spellings that decode to harmless names are stored literally inside the root") {
  Cluster c;
  struct Case {
    std::string target;
    std::string file;  // where the blob must be, relative to the data root
  };
  const std::vector<Case> cases = {
      {"/%252e%252e/x", "%2e%2e/x"},                                // double encoding
      {"/%25%32%65%25%32%65/y", "%2e%2e/y"},                          // double encoding, spelled out
      {"/a\\..\\b", "a\\..\\b"},                                      // backslashes are bytes
      {"/%EF%BC%8E%EF%BC%8E/z", "\xEF\xBC\x8E\xEF\xBC\x8E/z"},        // full-width dots
      {"/a..b/c..d.", "a..b/c..d."},                                  // dots inside a name
      {slash_joined({std::string(255, 'a'), std::string(255, 'b'), std::string(255, 'c'),
                     std::string(254, 'd'), "e"}),
       slash_joined({std::string(255, 'a'), std::string(255, 'b'), std::string(255, 'c'),
                     std::string(254, 'd'), "e"}).substr(1)},          // exactly 1024 bytes
  };
  for (const auto& kase : cases) {
    CAPTURE(kase.target);
    REQUIRE(send_raw(c.port(), "PUT", kase.target, "literal") == 201);
    const auto holders = c.holders(kase.file);
    CHECK(holders.size() == 2);
    for (auto i : holders) {
      CHECK(c.volumes[i]->read(kase.file) == "literal");
      // The file is where the key says, and nowhere else on that volume.
      CHECK(c.volumes[i]->files() == std::vector<std::string>{kase.file});
    }
    CHECK(c.fetch(kase.target) == "literal");
    REQUIRE(c.del(kase.target).status == 204);
    CHECK(c.all_files().empty());
  }
}

TEST_CASE("a and a/b: whichever is stored first wins, the other gets 409 and writes nothing") {
  Cluster c;
  REQUIRE(c.put("/a", "file").status == 201);
  for (const std::string target : {"/a/b", "/a/b/c", "/a/%62"}) {
    CAPTURE(target);
    const auto put = c.put(target, "below");
    CHECK(put.status == 409);
    CHECK(put.body.starts_with("key conflict: "));
  }
  REQUIRE(c.put("/x/y/z", "deep").status == 201);
  for (const std::string target : {"/x", "/x/y"}) {
    CAPTURE(target);
    CHECK(c.put(target, "above").status == 409);
  }
  CHECK(c.all_files().size() == 4);  // a and x/y/z, twice each
  CHECK(c.fetch("/a") == "file");
  CHECK(c.fetch("/x/y/z") == "deep");
}
