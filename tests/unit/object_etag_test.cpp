// The ETag of a record: its MD5's, unless its meta names another (a multipart object's).
#include "mkv/object_etag.h"

#include "mkv/object_meta.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

TEST_CASE("a record's ETag is its MD5's unless its meta names one") {
  const mkv::Md5 md5 = mkv::md5_of("hello");
  const std::string plain = mkv::etag_of(md5);
  const std::string multipart = "\"cdf5c939599609c67a5f98fd1546306d-2\"";
  struct Case {
    std::optional<mkv::Md5> md5;
    std::string meta;
    std::optional<std::string> etag;
  };
  const std::vector<Case> cases = {
      {md5, "", plain},
      {std::nullopt, "", std::nullopt},
      {md5, "{\"content-type\":\"text/plain\"}", plain},
      {md5, mkv::meta_with_etag("", multipart), multipart},
      {std::nullopt, mkv::meta_with_etag("", multipart), multipart},
      {md5, "{\"mkv-etag\":7}", plain},   // not a string: ignored
      {md5, "not json mkv-etag", plain},  // unreadable meta: the MD5's
      {md5, "{\"x-amz-meta-note\":\"mkv-etag\"}", plain},
  };
  for (const Case& c : cases) {
    CAPTURE(c.meta);
    mkv::Record record;
    record.md5 = c.md5;
    record.meta = c.meta;
    CHECK(mkv::etag_of(record) == c.etag);
  }
}

TEST_CASE("meta_with_etag keeps the stored headers, which never include the ETag") {
  const std::string headers =
      mkv::encode_meta({{"content-type", "text/plain"}, {"x-amz-meta-a", "b"}});
  const std::string meta = mkv::meta_with_etag(headers, "\"abc-3\"");
  CHECK(mkv::meta_etag(meta) == "\"abc-3\"");
  CHECK(mkv::decode_meta(meta) ==
        mkv::StoredHeaders{{"content-type", "text/plain"}, {"x-amz-meta-a", "b"}});
  CHECK(mkv::meta_etag(mkv::meta_with_etag(meta, "\"def-2\"")) == "\"def-2\"");
  CHECK(mkv::meta_with_etag("", "\"e-1\"") == "{\"mkv-etag\":\"\\\"e-1\\\"\"}");
}
