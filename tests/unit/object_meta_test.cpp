// What an object keeps besides its bytes: which request headers are stored, the 2 KB user
// metadata limit, and the index's encoding of them.
#include "mkv/object_meta.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using mkv::Header;
using mkv::StoredHeaders;

TEST_CASE("is_stored_header takes the standard headers and x-amz-meta-*, in any case") {
  struct Case {
    std::string name;
    bool stored;
  };
  const std::vector<Case> cases = {
      {"Content-Type", true},
      {"content-type", true},
      {"Cache-Control", true},
      {"Content-Disposition", true},
      {"Content-Encoding", true},
      {"Content-Language", true},
      {"Expires", true},
      {"X-Amz-Meta-Mtime", true},
      {"x-amz-meta-a", true},
      {"x-amz-meta-", false},
      {"Content-Length", false},
      {"Content-MD5", false},
      {"x-amz-content-sha256", false},
      {"x-amz-date", false},
      {"Authorization", false},
      {"x-amz-checksum-crc32", false},
      {"Host", false},
      {"ETag", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(mkv::is_stored_header(c.name) == c.stored);
  }
}

TEST_CASE("overridden_header names the header a response-* parameter sets") {
  struct Case {
    std::string param;
    std::optional<std::string> header;
  };
  const std::vector<Case> cases = {
      {"response-content-type", "content-type"},
      {"response-content-disposition", "content-disposition"},
      {"response-cache-control", "cache-control"},
      {"response-expires", "expires"},
      {"response-x-amz-meta-a", std::nullopt},
      {"response-content-length", std::nullopt},
      {"content-type", std::nullopt},
      {"Response-Content-Type", std::nullopt},
      {"response-", std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.param);
    const auto header = mkv::overridden_header(c.param);
    CHECK(header.has_value() == c.header.has_value());
    if (header && c.header) CHECK(*header == *c.header);
  }
}

TEST_CASE("stored_headers_of keeps the stored headers, lower-cased, sorted, repeats joined") {
  struct Case {
    std::string name;
    std::vector<Header> headers;
    StoredHeaders expected;
  };
  const std::vector<Case> cases = {
      {"none", {{"Host", "x"}, {"Content-Length", "3"}}, {}},
      {"rclone's",
       {{"Content-Type", "text/plain; charset=utf-8"},
        {"X-Amz-Meta-Mtime", "1700000000.5"},
        {"Content-Length", "3"}},
       {{"content-type", "text/plain; charset=utf-8"}, {"x-amz-meta-mtime", "1700000000.5"}}},
      {"sorted and trimmed",
       {{"x-amz-meta-z", " last "}, {"Cache-Control", "no-cache"}, {"x-amz-meta-a", "\tfirst"}},
       {{"cache-control", "no-cache"}, {"x-amz-meta-a", "first"}, {"x-amz-meta-z", "last"}}},
      {"repeated", {{"x-amz-meta-tag", "a"}, {"X-Amz-Meta-Tag", "b"}}, {{"x-amz-meta-tag", "a,b"}}},
      {"utf-8 and empty values",
       {{"x-amz-meta-name", "caf\xC3\xA9"}, {"x-amz-meta-e", ""}},
       {{"x-amz-meta-e", ""}, {"x-amz-meta-name", "caf\xC3\xA9"}}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto kept = mkv::stored_headers_of(c.headers);
    REQUIRE(kept.has_value());
    CHECK(*kept == c.expected);
  }
}

TEST_CASE("stored_headers_of refuses user metadata over 2 KB, counting names and values") {
  const std::string name = "x-amz-meta-" + std::string(48, 'n');
  const std::string value(2000, 'v');
  const std::string longer(2001, 'v');
  const std::string type(4000, 't');
  const std::vector<Header> at_limit = {{name, value}};
  CHECK(mkv::stored_headers_of(at_limit).has_value());
  const std::vector<Header> over = {{name, longer}};
  const auto refused = mkv::stored_headers_of(over);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == mkv::s3errc::metadata_too_large);
  CHECK(refused.error().message == "the x-amz-meta-* headers hold 2049 bytes; S3 allows 2048");
  // Standard headers do not count.
  const std::vector<Header> standard = {{name, value}, {"Content-Type", type}};
  CHECK(mkv::stored_headers_of(standard).has_value());
}

TEST_CASE("encode_meta and decode_meta round-trip; nothing stored encodes as nothing") {
  const std::vector<StoredHeaders> cases = {
      {},
      {{"content-type", "image/png"}},
      {{"content-type", "a \"quoted\" \\ value"}, {"x-amz-meta-k", "caf\xC3\xA9\x01"}},
  };
  for (const auto& headers : cases) {
    const std::string text = mkv::encode_meta(headers);
    CAPTURE(text);
    CHECK(text.empty() == headers.empty());
    CHECK(mkv::decode_meta(text) == headers);
  }
  CHECK(mkv::encode_meta({{"content-type", "a/b"}, {"x-amz-meta-m", "1"}}) ==
        R"({"content-type":"a/b","x-amz-meta-m":"1"})");
}

TEST_CASE("decode_meta keeps what it can read of text mkv did not write") {
  struct Case {
    std::string text;
    StoredHeaders expected;
  };
  const std::vector<Case> cases = {
      {"not json", {}},
      {"[1,2]", {}},
      {R"({"content-type":"a/b","x-amz-meta-n":5,"host":"h"})", {{"content-type", "a/b"}}},
      {R"({"x-amz-meta-b":"2","x-amz-meta-a":"1"})",
       {{"x-amz-meta-a", "1"}, {"x-amz-meta-b", "2"}}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    CHECK(mkv::decode_meta(c.text) == c.expected);
  }
}
