// Keys: decoding request paths, the rules for acceptable keys, and encoding keys into URLs.
#include "mkv/key.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("decode_key accepts and decodes these paths") {
  struct Case {
    std::string path;
    std::string key;
  };
  const std::vector<Case> cases = {
      {"/a", "a"},
      {"/path/to/key", "path/to/key"},
      {"/hello%20world", "hello world"},
      {"/100%25", "100%"},
      {"/a+b", "a+b"},
      {"/what%3F", "what?"},
      {"/%C3%BCber/%E2%82%AC", "\xC3\xBC" "ber/\xE2\x82\xAC"},
      {"/\xC3\xBC" "ber", "\xC3\xBC" "ber"},
      {"/quote%22and'single", "quote\"and'single"},
      {"/a.b/c..", "a.b/c.."},
      {"/x./y.z", "x./y.z"},
      {"/back\\slash", "back\\slash"},
      {"/" + std::string(255, 's'), std::string(255, 's')},
      {"/" + std::string(255, 's') + "/" + std::string(255, 't'),
       std::string(255, 's') + "/" + std::string(255, 't')},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    const auto key = mkv::decode_key(c.path);
    REQUIRE(key.has_value());
    CHECK(*key == c.key);
  }
}

TEST_CASE("decode_key rejects these paths with a reason") {
  struct Case {
    std::string path;
    std::string reason;
  };
  std::string long_key = "/";
  for (int i = 0; i < 5; ++i) long_key += std::string(200, 'k') + "/";
  long_key += std::string(30, 'k');  // 1031 bytes of key
  const std::vector<Case> cases = {
      {"", "path must start with /"},
      {"a", "path must start with /"},
      {"/", "empty key"},
      {"/a/", "trailing slash"},
      {"/a//b", "empty path segment"},
      {"//a", "empty path segment"},
      {"/.", "dot segment"},
      {"/..", "dot segment"},
      {"/a/../b", "dot segment"},
      {"/a/./b", "dot segment"},
      {"/%2e%2e", "dot segment"},
      {"/%2E%2e/etc/passwd", "dot segment"},
      {"/a%2F..%2Fb", "dot segment"},
      {"/a%2f%2fb", "empty path segment"},
      {"/%", "malformed percent-escape"},
      {"/%2", "malformed percent-escape"},
      {"/%zz", "malformed percent-escape"},
      {"/a%g0", "malformed percent-escape"},
      {"/nul%00byte", "control character in key"},
      {std::string("/raw\0nul", 8), "control character in key"},
      {"/tab%09", "control character in key"},
      {"/new%0Aline", "control character in key"},
      {"/del%7F", "control character in key"},
      {"/bad%FF", "key is not valid UTF-8"},
      {"/overlong%C0%AF", "key is not valid UTF-8"},
      {"/surrogate%ED%A0%80", "key is not valid UTF-8"},
      {"/cut%E2%82", "key is not valid UTF-8"},
      {"/" + std::string(256, 's'), "path segment is longer than 255 bytes"},
      {long_key, "key is longer than 1024 bytes"},
      {"/.mkv", "path segment starts with '.'"},
      {"/.mkv/staging/x", "path segment starts with '.'"},
      {"/%2emkv/x", "path segment starts with '.'"},
      {"/.hidden", "path segment starts with '.'"},
      {"/a/...", "path segment starts with '.'"},
      {"/a/.b/c", "path segment starts with '.'"},
      {"/%2e%2e%2e", "path segment starts with '.'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    const auto key = mkv::decode_key(c.path);
    REQUIRE_FALSE(key.has_value());
    CHECK(key.error().code == mkv::errc::invalid_key);
    CHECK(key.error().detail == c.reason);
  }
}

TEST_CASE("a 1024-byte key is accepted, 1025 is not") {
  std::string key;
  while (key.size() + 201 <= 1024) key += std::string(200, 'k') + "/";
  key += std::string(1024 - key.size(), 'k');
  REQUIRE(key.size() == 1024);
  CHECK_FALSE(mkv::key_problem(key));
  CHECK(mkv::key_problem(key + "k") == "key is longer than 1024 bytes");
}

TEST_CASE("encode_key keeps unreserved bytes and '/', escapes the rest") {
  struct Case {
    std::string key;
    std::string encoded;
  };
  const std::vector<Case> cases = {
      {"a/b/c", "a/b/c"},
      {"AZaz09-._~", "AZaz09-._~"},
      {"hello world", "hello%20world"},
      {"100%", "100%25"},
      {"a+b", "a%2Bb"},
      {"what?#", "what%3F%23"},
      {"\xC3\xBC", "%C3%BC"},
      {"q\"'<>&;=", "q%22%27%3C%3E%26%3B%3D"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CHECK(mkv::encode_key(c.key) == c.encoded);
  }
}

TEST_CASE("encode then decode gives back every acceptable key") {
  const std::vector<std::string> keys = {
      "a", "a b/c d", "100%/x", "a+b", "what?", "\xE2\x82\xAC/\xF0\x9F\x98\x80", "q\"'\\<>&",
      "x...", "dots.in/the.middle."};
  for (const auto& key : keys) {
    CAPTURE(key);
    REQUIRE_FALSE(mkv::key_problem(key));
    const auto back = mkv::decode_key("/" + mkv::encode_key(key));
    REQUIRE(back.has_value());
    CHECK(*back == key);
  }
}

TEST_CASE("parent_keys and child_prefix name the keys that collide on a filesystem") {
  CHECK(mkv::parent_keys("a").empty());
  CHECK(mkv::parent_keys("a/b/c") == std::vector<std::string_view>{"a", "a/b"});
  CHECK(mkv::parent_keys("x y/z") == std::vector<std::string_view>{"x y"});
  CHECK(mkv::child_prefix("a") == "a/");
  CHECK(mkv::child_prefix("a/b") == "a/b/");
}
