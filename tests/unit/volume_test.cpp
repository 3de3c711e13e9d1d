// Volume URLs: parsing the -v list and the URLs and targets of keys on volumes.
#include "mkv/volume.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("parse_volume_url accepts these URLs") {
  struct Case {
    std::string text;
    mkv::Volume volume;
  };
  const std::vector<Case> cases = {
      {"http://vol1:8080", {"http://vol1:8080", "vol1", "8080", ""}},
      {"http://vol1:8080/", {"http://vol1:8080", "vol1", "8080", ""}},
      {"http://vol1", {"http://vol1", "vol1", "80", ""}},
      {"http://127.0.0.1:81/blobs", {"http://127.0.0.1:81/blobs", "127.0.0.1", "81", "/blobs"}},
      {"http://h:1/a/b//", {"http://h:1/a/b", "h", "1", "/a/b"}},
      {"http://[::1]:8080", {"http://[::1]:8080", "::1", "8080", ""}},
      {"http://[::1]", {"http://[::1]", "::1", "80", ""}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const auto v = mkv::parse_volume_url(c.text);
    REQUIRE(v.has_value());
    CHECK(*v == c.volume);
  }
}

TEST_CASE("parse_volume_url rejects these URLs") {
  const std::vector<std::string> bad = {
      "", "vol1:8080", "https://vol1", "http://", "http://:80", "http://h:", "http://h:0",
      "http://h:65536", "http://h:8o", "http://h:1?x", "http://u@h", "http://h/#f", "http://[::1",
      "http://[::1]x", "ftp://h"};
  for (const auto& text : bad) {
    CAPTURE(text);
    CHECK_FALSE(mkv::parse_volume_url(text).has_value());
  }
}

TEST_CASE("parse_volume_list splits on commas and refuses duplicates") {
  const auto list = mkv::parse_volume_list("http://a:1,http://b:2,,http://c:3/");
  REQUIRE(list.has_value());
  REQUIRE(list->size() == 3);
  CHECK((*list)[2].url == "http://c:3");
  CHECK(mkv::parse_volume_list("")->empty());
  CHECK_FALSE(mkv::parse_volume_list("http://a:1,http://a:1/").has_value());
  CHECK_FALSE(mkv::parse_volume_list("http://a:1,nope").has_value());
}

TEST_CASE("targets and locations of a key on a volume") {
  const auto plain = *mkv::parse_volume_url("http://v:1");
  const auto prefixed = *mkv::parse_volume_url("http://v:1/data");
  CHECK(mkv::volume_target(plain, "a b/c") == "/a%20b/c");
  CHECK(mkv::volume_target(prefixed, "a b/c") == "/data/a%20b/c");
  CHECK(mkv::staging_target(prefixed, "0f") == "/data/.mkv/staging/0f");
  CHECK(mkv::staging_directory_target(plain) == "/.mkv/staging/");
  CHECK(mkv::staging_directory_target(prefixed) == "/data/.mkv/staging/");
  CHECK(mkv::volume_directory_target(prefixed, "a b") == "/data/a%20b/");
  CHECK(mkv::volume_location("http://v:1/data", "what?") == "http://v:1/data/what%3F");
}

TEST_CASE("parse_volume_url says what is wrong with a volume URL") {
  struct Case {
    std::string text;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"https://vol1", "only http:// volumes are supported"},
      {"vol1:8080", "only http:// volumes are supported"},
      {"http://", "missing host"},
      {"http://:80", "missing host"},
      {"http://h:", "empty port"},
      {"http://h:0", "bad port"},
      {"http://h:65536", "bad port"},
      {"http://h:8o", "bad port"},
      {"http://h:1?x", "query, fragment, user info and spaces are not allowed"},
      {"http://u@h", "query, fragment, user info and spaces are not allowed"},
      {"http://h/#f", "query, fragment, user info and spaces are not allowed"},
      {"http://[::1", "unterminated IPv6 literal"},
      {"http://[::1]x", "junk after IPv6 literal"},
      // Boost.URL refuses what is not a URL at all, which the hand-written parser let through.
      {"http://a\"b", "not a host[:port][/path]"},
      {"http://h:1:2", "bad port"},
      {"http://a%zz", "not a host[:port][/path]"},
      {"http://\xC3\xBC", "not a host[:port][/path]"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const auto v = mkv::parse_volume_url(c.text);
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().code == mkv::errc::invalid_volume_url);
    CHECK(v.error().detail == "volume " + c.text + ": " + c.reason);
  }
}
