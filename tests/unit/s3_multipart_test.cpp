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

TEST_CASE("an upload and its parts live under mkv's own keys, parts in numeric order") {
  const std::string id = "0123456789abcdef0123456789abcdef";
  CHECK(mkv::uploads_prefix("photos") == ".mkv/uploads/photos/");
  CHECK(mkv::upload_key("photos", id) == ".mkv/uploads/photos/" + id);
  CHECK(mkv::parts_prefix("photos", id) == ".mkv/parts/photos/" + id + "/");
  struct Case {
    unsigned number;
    std::string name;
  };
  for (const Case& c : std::vector<Case>{{1, "00001"}, {42, "00042"}, {10000, "10000"}}) {
    CAPTURE(c.number);
    CHECK(mkv::part_key("photos", id, c.number) == ".mkv/parts/photos/" + id + "/" + c.name);
    CHECK(mkv::part_number_of(c.name) == c.number);
  }
  // Byte order is numeric order, as ListParts and Complete need.
  CHECK(mkv::part_key("b", id, 9) < mkv::part_key("b", id, 10));
  CHECK(mkv::part_key("b", id, 999) < mkv::part_key("b", id, 1000));
  for (const std::string bad : {"", "1", "0001", "000001", "00000", "10001", "0000a", "-0001"}) {
    CAPTURE(bad);
    CHECK_FALSE(mkv::part_number_of(bad).has_value());
  }
}

TEST_CASE("part_owner_of names the bucket and upload of a part's key, and nothing else") {
  const std::string id = "0123456789abcdef0123456789abcdef";
  CHECK(mkv::part_owner_of(mkv::part_key("b", id, 7)) == mkv::PartOwner{"b", id});
  CHECK(mkv::part_owner_of(".mkv/parts/my-bucket/" + id + "/10000") ==
        mkv::PartOwner{"my-bucket", id});
  for (const std::string& bad : std::vector<std::string>{
           ".mkv/uploads/b/" + id, ".mkv/parts/b/" + id, ".mkv/parts/b/" + id + "/",
           ".mkv/parts/b/" + id + "/1", ".mkv/parts//" + id + "/00001", ".mkv/parts/b/nope/00001",
           ".mkv/parts/b/x/" + id + "/00001", "b/" + id + "/00001"}) {
    CAPTURE(bad);
    CHECK_FALSE(mkv::part_owner_of(bad).has_value());
  }
}

TEST_CASE("an upload's record keeps its key and headers, and reads back only what it wrote") {
  for (const mkv::UploadMeta& upload :
       {mkv::UploadMeta{"a/b.txt", ""}, mkv::UploadMeta{"k", "{\"content-type\":\"text/plain\"}"},
        mkv::UploadMeta{"\"quoted\" \\ key \xC3\xBC", "{}"}}) {
    CAPTURE(upload.key);
    CHECK(mkv::decode_upload_meta(mkv::encode_upload_meta(upload)) == upload);
  }
  for (const std::string bad : {"", "{", "[]", "{\"key\":1,\"meta\":\"\"}", "{\"key\":\"k\"}",
                                "{\"meta\":\"\"}", "\"k\""}) {
    CAPTURE(bad);
    CHECK_FALSE(mkv::decode_upload_meta(bad).has_value());
  }
}

TEST_CASE("uploads expire after the expiry; the sweep runs every tenth of it, 1 s to 10 min") {
  CHECK(mkv::upload_expired(1000, 1100, 100));
  CHECK(mkv::upload_expired(1000, 5000, 100));
  CHECK_FALSE(mkv::upload_expired(1000, 1099, 100));
  CHECK_FALSE(mkv::upload_expired(1000, 900, 100));  // a clock that went back
  CHECK(mkv::upload_sweep_seconds(86400) == 600);
  CHECK(mkv::upload_sweep_seconds(3600) == 360);
  CHECK(mkv::upload_sweep_seconds(20) == 2);
  CHECK(mkv::upload_sweep_seconds(2) == 1);
  CHECK(mkv::upload_sweep_seconds(1) == 1);
}

TEST_CASE("ListParts and ListMultipartUploads page sizes and the part marker") {
  CHECK(mkv::parse_page_size(std::nullopt, "max-parts").value() == 1000);
  CHECK(mkv::parse_page_size("7", "max-parts").value() == 7);
  CHECK(mkv::parse_page_size("0", "max-parts").value() == 0);
  CHECK(mkv::parse_page_size("5000", "max-parts").value() == 1000);
  CHECK(mkv::parse_page_size("99999999999999999999", "max-parts").value() == 1000);
  for (const std::string bad : {"", "-1", "1.5", "x", " 1"}) {
    CAPTURE(bad);
    const auto n = mkv::parse_page_size(std::string_view(bad), "max-uploads");
    REQUIRE_FALSE(n.has_value());
    CHECK(n.error() ==
          mkv::s3_error(s3errc::invalid_argument, "max-uploads must be a whole number"));
  }
  CHECK(mkv::parse_part_marker(std::nullopt).value() == 0);
  CHECK(mkv::parse_part_marker("").value() == 0);
  CHECK(mkv::parse_part_marker("0").value() == 0);
  CHECK(mkv::parse_part_marker("12").value() == 12);
  CHECK_FALSE(mkv::parse_part_marker("10001").has_value());
  CHECK_FALSE(mkv::parse_part_marker("a").has_value());
}

TEST_CASE("page_uploads sorts by key then upload ID, filters the prefix, pages after the markers") {
  const std::vector<mkv::ListedUpload> all = {
      {"b/2", "u2", 5}, {"a", "u9", 1}, {"b/1", "u1", 2}, {"b/2", "u1", 4}, {"c", "u3", 3}};
  const auto keys = [](const mkv::UploadsPage& page) {
    std::vector<std::string> out;
    for (const auto& u : page.uploads) out.push_back(u.key + "@" + u.upload_id);
    return out;
  };
  struct Case {
    std::string prefix, key_marker, id_marker;
    std::size_t max;
    std::vector<std::string> listed;
    bool truncated;
  };
  const std::vector<Case> cases = {
      {"", "", "", 1000, {"a@u9", "b/1@u1", "b/2@u1", "b/2@u2", "c@u3"}, false},
      {"b/", "", "", 1000, {"b/1@u1", "b/2@u1", "b/2@u2"}, false},
      {"b/", "", "", 2, {"b/1@u1", "b/2@u1"}, true},
      {"", "b/2", "", 1000, {"c@u3"}, false},              // a key marker alone: keys after it
      {"", "b/2", "u1", 1000, {"b/2@u2", "c@u3"}, false},  // with an ID: that key's later IDs
      {"", "", "u1", 1000, {"a@u9", "b/1@u1", "b/2@u1", "b/2@u2", "c@u3"}, false},
      {"x", "", "", 1000, {}, false},
      {"", "", "", 0, {}, true},
      {"", "c", "", 1, {}, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.prefix);
    CAPTURE(c.key_marker);
    CAPTURE(c.id_marker);
    CAPTURE(c.max);
    const auto page = mkv::page_uploads(all, c.prefix, c.key_marker, c.id_marker, c.max);
    CHECK(keys(page) == c.listed);
    CHECK(page.truncated == c.truncated);
  }
  // The page keeps each upload's time.
  CHECK(mkv::page_uploads(all, "a", "", "", 10).uploads ==
        std::vector<mkv::ListedUpload>{{"a", "u9", 1}});
}
