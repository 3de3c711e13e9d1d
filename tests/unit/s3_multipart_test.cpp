// S3 multipart: part numbers, upload IDs, the multipart ETag and the check of Complete's list.
#include "mkv/s3_multipart.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

using mkv::s3errc;

namespace {

constexpr std::uint64_t mib = 1024 * 1024;

// An uploaded part whose MD5 is that of body.
mkv::UploadedPart part(unsigned number, std::uint64_t size, const std::string& body) {
  return {number, size, mkv::md5_of(body)};
}

}  // namespace

TEST_CASE("parse_part_number accepts 1 to 10000 only") {
  CHECK(mkv::parse_part_number("1").value() == 1);
  CHECK(mkv::parse_part_number("42").value() == 42);
  CHECK(mkv::parse_part_number("007").value() == 7);
  CHECK(mkv::parse_part_number("10000").value() == 10000);
  for (const std::string bad : {"0", "10001", "", "-1", "+1", "1.0", " 1", "1 ", "abc", "0x10",
                                "99999999999999999999999"}) {
    CAPTURE(bad);
    const auto n = mkv::parse_part_number(bad);
    REQUIRE_FALSE(n.has_value());
    CHECK(n.error() == mkv::s3_error(s3errc::invalid_argument,
                                     "the part number must be a whole number from 1 to 10000"));
  }
}

TEST_CASE("upload IDs are 32 lower-case hex digits of random bytes") {
  std::array<std::uint8_t, 16> random{};
  for (std::size_t i = 0; i < random.size(); ++i) random[i] = std::uint8_t(i * 17 + 3);
  const std::string id = mkv::upload_id_from(random);
  CHECK(id == "031425364758697a8b9cadbecfe0f102");  // bytes.hex() in Python
  CHECK(mkv::is_upload_id(id));
  CHECK(mkv::is_upload_id(mkv::upload_id_from(std::array<std::uint8_t, 16>{})));
  for (const std::string bad :
       {"", "03142536475869708192a3b4c5d6e7f", "03142536475869708192a3b4c5d6e7f80",
        "03142536475869708192A3B4C5D6E7F8", "0314253647586970-192a3b4c5d6e7f8",
        "../../../../../../../../etc/pass", "03142536475869708192a3b4c5d6e7g8"}) {
    CAPTURE(bad);
    CHECK_FALSE(mkv::is_upload_id(bad));
  }
}

TEST_CASE("multipart_etag is the MD5 of the parts' MD5s, then -N") {
  // Expected values computed independently with Python's hashlib:
  //   '"%s-%d"' % (md5(b''.join(md5(p).digest() for p in parts)).hexdigest(), len(parts))
  struct Case {
    std::vector<std::string> parts;
    std::string etag;
  };
  std::vector<std::string> bytes;
  for (int i = 0; i < 10; ++i) bytes.push_back(std::string(1, char(i)));
  const std::vector<Case> cases = {
      {{""}, "\"59adb24ef3cdbe0297f05b395827453f-1\""},
      {{"hello"}, "\"62109206880d38a4010a98e11243924a-1\""},
      {{"hello", "world"}, "\"065947336a2f2a95ba8899f3675c3be6-2\""},
      {{std::string(5 * mib, 'a'), std::string(5 * mib, 'b'), "tail"},
       "\"1af560d38fa58b7629ca9d6c912c720b-3\""},
      {bytes, "\"b30f0e0080648337c8ac2d4439478533-10\""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.etag);
    std::vector<mkv::Md5> md5s;
    for (const auto& p : c.parts) md5s.push_back(mkv::md5_of(p));
    CHECK(mkv::multipart_etag(md5s) == c.etag);
  }
}

TEST_CASE("part_etag_matches takes the ETag quoted or not, hex in any case") {
  const auto md5 = mkv::md5_of("hello");  // 5d41402abc4b2a76b9719d911017c592
  CHECK(mkv::part_etag_matches("\"5d41402abc4b2a76b9719d911017c592\"", md5));
  CHECK(mkv::part_etag_matches("5d41402abc4b2a76b9719d911017c592", md5));
  CHECK(mkv::part_etag_matches("5D41402ABC4B2A76B9719D911017C592", md5));
  CHECK_FALSE(mkv::part_etag_matches("\"5d41402abc4b2a76b9719d911017c592", md5));
  CHECK_FALSE(mkv::part_etag_matches("5d41402abc4b2a76b9719d911017c593", md5));
  CHECK_FALSE(mkv::part_etag_matches("", md5));
  CHECK_FALSE(mkv::part_etag_matches("\"\"", md5));
}

TEST_CASE("plan_complete keeps the listed parts in order and names the rest") {
  const std::vector<mkv::UploadedPart> uploaded = {part(3, 4, "last"), part(1, 5 * mib, "one"),
                                                   part(2, 6 * mib, "two"), part(7, 1, "unlisted"),
                                                   part(5, 5 * mib, "five")};
  const std::vector<mkv::ListedPart> listed = {
      {1, mkv::etag_of(mkv::md5_of("one"))},
      {2, mkv::to_hex(mkv::md5_of("two"))},
      {5, mkv::etag_of(mkv::md5_of("five"))},
      {7, mkv::etag_of(mkv::md5_of("unlisted"))},
  };
  const auto plan = mkv::plan_complete(listed, uploaded);
  REQUIRE(plan.has_value());
  CHECK(plan->parts ==
        std::vector<mkv::UploadedPart>{uploaded[1], uploaded[2], uploaded[4], uploaded[3]});
  CHECK(plan->size == 16 * mib + 1);
  const std::vector<mkv::Md5> md5s = {mkv::md5_of("one"), mkv::md5_of("two"), mkv::md5_of("five"),
                                      mkv::md5_of("unlisted")};
  CHECK(plan->etag == mkv::multipart_etag(md5s));
  CHECK(plan->unlisted == std::vector<unsigned>{3});

  // One part of any size, even empty, is a whole upload.
  const std::vector<mkv::UploadedPart> one = {part(9, 0, "")};
  const auto single =
      mkv::plan_complete(std::vector<mkv::ListedPart>{{9, mkv::etag_of(mkv::md5_of(""))}}, one);
  REQUIRE(single.has_value());
  CHECK(single->size == 0);
  CHECK(single->etag == "\"59adb24ef3cdbe0297f05b395827453f-1\"");  // from hashlib, as above
  CHECK(single->unlisted.empty());
}

TEST_CASE("plan_complete refuses these part lists, saying why") {
  const std::vector<mkv::UploadedPart> uploaded = {
      part(1, 5 * mib, "one"), part(2, 5 * mib - 1, "two"), part(3, 10, "three")};
  const auto tag = [](const std::string& body) { return mkv::etag_of(mkv::md5_of(body)); };
  struct Case {
    const char* what;
    std::vector<mkv::ListedPart> listed;
    s3errc code;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"no part", {}, s3errc::malformed_xml, "CompleteMultipartUpload lists no part"},
      {"part 0",
       {{0, tag("one")}},
       s3errc::invalid_argument,
       "part number 0 is not from 1 to 10000"},
      {"part 10001",
       {{1, tag("one")}, {10001, tag("x")}},
       s3errc::invalid_argument,
       "part number 10001 is not from 1 to 10000"},
      {"descending",
       {{3, tag("three")}, {1, tag("one")}},
       s3errc::invalid_part_order,
       "part 1 is listed after part 3; parts must be listed in ascending order, each once"},
      {"repeated",
       {{1, tag("one")}, {1, tag("one")}},
       s3errc::invalid_part_order,
       "part 1 is listed after part 1; parts must be listed in ascending order, each once"},
      {"order is checked before presence",
       {{4, tag("x")}, {1, tag("one")}},
       s3errc::invalid_part_order,
       "part 1 is listed after part 4; parts must be listed in ascending order, each once"},
      {"not uploaded",
       {{1, tag("one")}, {4, tag("x")}},
       s3errc::invalid_part,
       "part 4 was not uploaded"},
      {"another ETag",
       {{1, tag("two")}},
       s3errc::invalid_part,
       "part 1 was uploaded with the ETag " + tag("one") + ", not " + tag("two")},
      {"a small part before the last",
       {{1, tag("one")}, {2, tag("two")}, {3, tag("three")}},
       s3errc::entity_too_small,
       "part 2 is 5242879 bytes; every part but the last must be at least 5242880 bytes (5 MiB)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const auto plan = mkv::plan_complete(c.listed, uploaded);
    REQUIRE_FALSE(plan.has_value());
    CHECK(plan.error().code == c.code);
    CHECK(plan.error().message == c.reason);
  }
  // The small part is fine as the last one.
  CHECK(mkv::plan_complete(std::vector<mkv::ListedPart>{{1, tag("one")}, {2, tag("two")}}, uploaded)
            .has_value());
}
