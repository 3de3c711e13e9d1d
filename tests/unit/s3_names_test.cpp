// S3 names: bucket name rules, S3 keys as native keys and back, and path-style request paths.
#include "mkv/s3_names.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using mkv::s3errc;

TEST_CASE("check_bucket_name accepts these names") {
  const std::vector<std::string> names = {
      "abc",      "my-bucket", "my.bucket.example", "0bucket", "bucket9", "a-b.c-d",
      "123",      "1.2.3",     "1.2.3.4.5",         "v1.2.3a", "a--b",    std::string(63, 'x'),
      "xn--ab-c", "a.b-c"};
  for (const auto& name : names) {
    CAPTURE(name);
    CHECK(mkv::check_bucket_name(name).has_value());
  }
}

TEST_CASE("check_bucket_name refuses these names with the rule they break") {
  struct Case {
    std::string name;
    std::string reason;
  };
  const std::string length = "a bucket name must be 3 to 63 characters long";
  const std::string chars =
      "a bucket name may contain only lower-case letters, digits, '.' and '-'";
  const std::string ends = "a bucket name must start and end with a lower-case letter or a digit";
  const std::vector<Case> cases = {
      {"", length},
      {"ab", length},
      {std::string(64, 'x'), length},
      {"MyBucket", chars},
      {"my_bucket", chars},
      {"my bucket", chars},
      {"my/bucket", chars},
      {"caf\xC3\xA9", chars},
      {".mkv", ends},
      {".bucket", ends},
      {"-bucket", ends},
      {"bucket-", ends},
      {"bucket.", ends},
      {"a..b", "a bucket name must not contain \"..\""},
      {"192.168.5.4", "a bucket name must not be formatted as an IP address"},
      {"999.0.0.1", "a bucket name must not be formatted as an IP address"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto checked = mkv::check_bucket_name(c.name);
    REQUIRE_FALSE(checked.has_value());
    CHECK(checked.error().code == s3errc::invalid_bucket_name);
    CHECK(checked.error().message == c.reason);
  }
}

TEST_CASE("native_key puts the bucket in front of the key") {
  struct Case {
    std::string bucket;
    std::string key;
    std::string native;
  };
  const std::vector<Case> cases = {
      {"b", "k", "b/k"},
      {"photos", "2024/cat.jpg", "photos/2024/cat.jpg"},
      {"Photos", "cat.jpg", "Photos/cat.jpg"},  // an existing native first segment
      {"b", "a b+c%d?e", "b/a b+c%d?e"},
      {"b", "caf\xC3\xA9/\xF0\x9F\x98\x80", "b/caf\xC3\xA9/\xF0\x9F\x98\x80"},
      {"b", "x./y..z", "b/x./y..z"},
      {"b", std::string(255, 's'), "b/" + std::string(255, 's')},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    const auto native = mkv::native_key(c.bucket, c.key);
    REQUIRE(native.has_value());
    CHECK(*native == c.native);
    CHECK(mkv::split_native_key(*native) == mkv::BucketKey{c.bucket, c.key});
  }
}

TEST_CASE("native_key refuses keys that cannot be a file path, saying why") {
  struct Case {
    std::string bucket;
    std::string key;
    s3errc code;
    std::string reason;
  };
  const std::string path = "mkv cannot store the key as a file path: ";
  std::string fits;  // 1022 bytes: the most a key in bucket "b" may have
  while (fits.size() + 201 <= 1022) fits += std::string(200, 'k') + "/";
  fits += std::string(1022 - fits.size(), 'k');
  REQUIRE(mkv::native_key("b", fits).has_value());
  const std::vector<Case> cases = {
      {"b", "", s3errc::invalid_argument, "the key is empty"},
      {"b", "dir/", s3errc::invalid_argument, path + "trailing slash"},
      {"b", "a//b", s3errc::invalid_argument, path + "empty path segment"},
      {"b", "/a", s3errc::invalid_argument, path + "empty path segment"},
      {"b", ".", s3errc::invalid_argument, path + "dot segment"},
      {"b", "a/../b", s3errc::invalid_argument, path + "dot segment"},
      {"b", "a/./b", s3errc::invalid_argument, path + "dot segment"},
      {"b", ".hidden", s3errc::invalid_argument, path + "path segment starts with '.'"},
      {"b", "a/.mkv/x", s3errc::invalid_argument, path + "path segment starts with '.'"},
      {"b", "tab\there", s3errc::invalid_argument, path + "control character in key"},
      {"b", std::string("nul\0", 4), s3errc::invalid_argument, path + "control character in key"},
      {"b", "bad\xFF", s3errc::invalid_argument, path + "key is not valid UTF-8"},
      {"b", fits + "k", s3errc::key_too_long,
       "the key is 1023 bytes; in bucket 'b' a key may have at most 1022 (mkv allows 1024 bytes "
       "for bucket, '/' and key)"},
      {"b", std::string(256, 's'), s3errc::key_too_long,
       "a '/'-separated segment of the key is longer than 255 bytes"},
      {"b", "a/" + std::string(256, 's') + "/c", s3errc::key_too_long,
       "a '/'-separated segment of the key is longer than 255 bytes"},
      {"", "k", s3errc::invalid_bucket_name, "the bucket name is empty"},
      {"a/b", "k", s3errc::invalid_bucket_name, "a bucket name cannot contain '/'"},
      {".mkv", "staging/x", s3errc::invalid_bucket_name,
       "the bucket name cannot be a segment of an mkv key: path segment starts with '.'"},
      {"..", "etc/passwd", s3errc::invalid_bucket_name,
       "the bucket name cannot be a segment of an mkv key: dot segment"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.bucket);
    CAPTURE(c.key);
    const auto native = mkv::native_key(c.bucket, c.key);
    REQUIRE_FALSE(native.has_value());
    CHECK(native.error().code == c.code);
    CHECK(native.error().message == c.reason);
  }
}

TEST_CASE("a key's length limit depends on its bucket's length") {
  const std::string bucket(63, 'b');
  std::string key(1024 - 64, 'k');  // the most a key in this bucket may have: 960 bytes
  for (std::size_t i = 200; i < key.size(); i += 201) key[i] = '/';
  CHECK(mkv::native_key(bucket, key).has_value());
  const auto refused = mkv::native_key(bucket, key + "k");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == s3errc::key_too_long);
}

TEST_CASE("split_path_style names the bucket and the key of a path") {
  struct Case {
    std::string path;
    mkv::BucketKey named;
  };
  const std::vector<Case> cases = {
      {"/", {"", ""}},
      {"/b", {"b", ""}},
      {"/b/", {"b", ""}},
      {"/b/k", {"b", "k"}},
      {"/b/dir/k.txt", {"b", "dir/k.txt"}},
      {"/b/a%20b%2Bc", {"b", "a b+c"}},
      {"/b/a+b", {"b", "a+b"}},
      {"/b/a%2Fb", {"b", "a/b"}},
      {"/b/caf%C3%A9", {"b", "caf\xC3\xA9"}},
      {"/b/dir/", {"b", "dir/"}},  // split only: native_key() refuses it
      {"/b//k", {"b", "/k"}},
      {"/b%2Fc/k", {"b/c", "k"}},  // the bucket is the first raw segment
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    const auto named = mkv::split_path_style(c.path);
    REQUIRE(named.has_value());
    CHECK(*named == c.named);
  }

  struct Bad {
    std::string path;
    s3errc code;
    std::string reason;
  };
  const std::vector<Bad> bad = {
      {"", s3errc::invalid_request, "the request path does not start with '/'"},
      {"b/k", s3errc::invalid_request, "the request path does not start with '/'"},
      {"/b/%zz", s3errc::invalid_request, "the request path has a malformed %-escape"},
      {"/b%2/k", s3errc::invalid_request, "the request path has a malformed %-escape"},
      {"//k", s3errc::invalid_bucket_name, "the request path has an empty bucket name"},
      {"//", s3errc::invalid_bucket_name, "the request path has an empty bucket name"},
  };
  for (const auto& c : bad) {
    CAPTURE(c.path);
    const auto named = mkv::split_path_style(c.path);
    REQUIRE_FALSE(named.has_value());
    CHECK(named.error().code == c.code);
    CHECK(named.error().message == c.reason);
  }
}

TEST_CASE("split_native_key finds the bucket of a native key") {
  CHECK(mkv::split_native_key("b/k") == mkv::BucketKey{"b", "k"});
  CHECK(mkv::split_native_key("b/k/l") == mkv::BucketKey{"b", "k/l"});
  CHECK_FALSE(mkv::split_native_key("top-level"));
}

TEST_CASE("key_conflict_error answers a key-as-path conflict with InvalidArgument") {
  const auto e = mkv::key_conflict_error("a/b");
  CHECK(e.code == s3errc::invalid_argument);
  CHECK(mkv::http_status(e.code) == 400);
  CHECK(e.message ==
        "the key 'a/b' collides with an existing key: mkv stores keys as file paths, so a key and "
        "a key under it ('a' and 'a/b') cannot both exist");
}

TEST_CASE("parse_copy_source names the source bucket and key, or says what is wrong") {
  struct Case {
    std::string header;
    std::optional<mkv::BucketKey> expected;
    std::string message;
  };
  const std::string prefix = "x-amz-copy-source ";
  const std::vector<Case> cases = {
      {"bucket/key", mkv::BucketKey{"bucket", "key"}, ""},
      {"/bucket/dir/key.txt", mkv::BucketKey{"bucket", "dir/key.txt"}, ""},
      {"b/with%20space/%C3%BCber%2Bplus", mkv::BucketKey{"b", "with space/\xC3\xBC" "ber+plus"},
       ""},
      {"b/k?versionId=null", mkv::BucketKey{"b", "k"}, ""},
      {"b/k?versionId=3HL4kqtJlcpXroDTDmJ", std::nullopt,
       "names a version; mkv keeps one version of each object (versionId=null)"},
      {"bucket", std::nullopt, "must name a bucket and a key: bucket/key"},
      {"/bucket/", std::nullopt, "must name a bucket and a key: bucket/key"},
      {"//key", std::nullopt, "must name a bucket and a key: bucket/key"},
      {"", std::nullopt, "must name a bucket and a key: bucket/key"},
      {"b/k%zz", std::nullopt, "has a malformed %-escape"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.header);
    const auto parsed = mkv::parse_copy_source(c.header);
    REQUIRE(parsed.has_value() == c.expected.has_value());
    if (parsed) {
      CHECK(*parsed == *c.expected);
    } else {
      CHECK(parsed.error().code == s3errc::invalid_argument);
      CHECK(parsed.error().message == prefix + c.message);
    }
  }
}
