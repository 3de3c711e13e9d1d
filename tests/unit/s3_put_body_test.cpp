// How a PutObject's body is read and checked: the plan made from its payload mode and headers
// (aws-chunked, the object's length, the checksum claimed in a header or announced for the
// trailer), the check of an ended body's trailer and checksum, and the Content-Encoding an object
// keeps. The checksums of "hello" are those of s3_checksum_test.cpp (computed with Python apart
// from mkv): CRC32 NhCmhg==, SHA-256 LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=.
#include "mkv/s3_put_body.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using mkv::ChecksumAlgorithm;
using mkv::ChecksumSource;
using mkv::PayloadMode;
using mkv::s3errc;

namespace {

constexpr const char* put_hello_crc32 = "NhCmhg==";
constexpr const char* put_hello_sha256 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";

}  // namespace

TEST_CASE("plan_put_body: framing, length and checksum from the payload mode and headers") {
  using Plan = mkv::PutBodyPlan;
  using Sum = mkv::PutChecksum;
  const auto crc32_trailer = Sum{ChecksumAlgorithm::crc32, ChecksumSource::trailer, {}};
  const struct {
    const char* what;
    PayloadMode mode;
    std::vector<mkv::Header> headers;
    std::optional<std::uint64_t> content_length;
    std::optional<Plan> plan;  // or the error:
    s3errc error;
  } rows[] = {
      {"a signed body as sent", PayloadMode::sha256, {}, 10, Plan{false, 10, {}}, {}},
      {"an unsigned body as sent", PayloadMode::unsigned_payload, {}, 0, Plan{false, 0, {}}, {}},
      {"no Content-Length",
       PayloadMode::unsigned_payload,
       {},
       std::nullopt,
       std::nullopt,
       s3errc::missing_content_length},
      {"signed chunks",
       PayloadMode::streaming_signed,
       {{"Content-Encoding", "aws-chunked"}, {"x-amz-decoded-content-length", "66560"}},
       66824,
       Plan{true, 66560, {}},
       {}},
      {"signed chunks without Content-Encoding",
       PayloadMode::streaming_signed,
       {{"X-Amz-Decoded-Content-Length", " 0 "}},
       86,
       Plan{true, 0, {}},
       {}},
      {"aws-chunked without x-amz-decoded-content-length",
       PayloadMode::streaming_signed,
       {},
       86,
       std::nullopt,
       s3errc::missing_content_length},
      {"aws-chunked without any length",
       PayloadMode::streaming_unsigned_trailer,
       {{"x-amz-decoded-content-length", "5"}},
       std::nullopt,
       std::nullopt,
       s3errc::missing_content_length},
      {"x-amz-decoded-content-length not a number",
       PayloadMode::streaming_signed,
       {{"x-amz-decoded-content-length", "5k"}},
       86,
       std::nullopt,
       s3errc::invalid_argument},
      {"an unsigned trailer as 2025 SDKs send it",
       PayloadMode::streaming_unsigned_trailer,
       {{"Content-Encoding", "aws-chunked"},
        {"x-amz-decoded-content-length", "5"},
        {"x-amz-sdk-checksum-algorithm", "CRC32"},
        {"x-amz-trailer", "x-amz-checksum-crc32"}},
       48,
       Plan{true, 5, crc32_trailer},
       {}},
      {"a signed trailer",
       PayloadMode::streaming_signed_trailer,
       {{"x-amz-decoded-content-length", "66560"}, {"X-Amz-Trailer", "x-amz-checksum-crc32c"}},
       66943,
       Plan{true, 66560, Sum{ChecksumAlgorithm::crc32c, ChecksumSource::trailer, {}}},
       {}},
      {"a trailer mode without a trailer",
       PayloadMode::streaming_unsigned_trailer,
       {{"x-amz-decoded-content-length", "5"}},
       15,
       Plan{true, 5, {}},
       {}},
      {"a trailer mode with the checksum in a header",
       PayloadMode::streaming_unsigned_trailer,
       {{"x-amz-decoded-content-length", "5"}, {"x-amz-checksum-crc32", put_hello_crc32}},
       15,
       Plan{true, 5, Sum{ChecksumAlgorithm::crc32, ChecksumSource::header, put_hello_crc32}},
       {}},
      {"a checksum header on a body as sent",
       PayloadMode::sha256,
       {{"X-Amz-Checksum-SHA256", put_hello_sha256}, {"x-amz-sdk-checksum-algorithm", "sha256"}},
       5,
       Plan{false, 5, Sum{ChecksumAlgorithm::sha256, ChecksumSource::header, put_hello_sha256}},
       {}},
      {"x-amz-checksum-algorithm and -type claim nothing",
       PayloadMode::unsigned_payload,
       {{"x-amz-checksum-algorithm", "CRC32"}, {"x-amz-checksum-type", "FULL_OBJECT"}},
       5,
       Plan{false, 5, {}},
       {}},
      {"a malformed checksum header",
       PayloadMode::unsigned_payload,
       {{"x-amz-checksum-crc32", "NhCmhg"}},
       5,
       std::nullopt,
       s3errc::invalid_argument},
      {"two checksum headers",
       PayloadMode::unsigned_payload,
       {{"x-amz-checksum-crc32", put_hello_crc32}, {"x-amz-checksum-sha256", put_hello_sha256}},
       5,
       std::nullopt,
       s3errc::invalid_request},
      {"a CRC64NVME header",
       PayloadMode::unsigned_payload,
       {{"x-amz-checksum-crc64nvme", "AAAAAAAAAAA="}},
       5,
       std::nullopt,
       s3errc::not_implemented},
      {"a checksum in a header and announced for the trailer",
       PayloadMode::streaming_unsigned_trailer,
       {{"x-amz-decoded-content-length", "5"},
        {"x-amz-checksum-crc32", put_hello_crc32},
        {"x-amz-trailer", "x-amz-checksum-crc32"}},
       48,
       std::nullopt,
       s3errc::invalid_request},
      {"x-amz-trailer with signed chunks that have no trailer",
       PayloadMode::streaming_signed,
       {{"x-amz-decoded-content-length", "5"}, {"x-amz-trailer", "x-amz-checksum-crc32"}},
       48,
       std::nullopt,
       s3errc::invalid_request},
      {"x-amz-trailer on a body as sent",
       PayloadMode::unsigned_payload,
       {{"x-amz-trailer", "x-amz-checksum-crc32"}},
       5,
       std::nullopt,
       s3errc::invalid_request},
      {"x-amz-trailer naming what is not a checksum",
       PayloadMode::streaming_unsigned_trailer,
       {{"x-amz-decoded-content-length", "5"}, {"x-amz-trailer", "x-amz-meta-color"}},
       48,
       std::nullopt,
       s3errc::invalid_argument},
      {"x-amz-trailer naming CRC64NVME",
       PayloadMode::streaming_unsigned_trailer,
       {{"x-amz-decoded-content-length", "5"}, {"x-amz-trailer", "x-amz-checksum-crc64nvme"}},
       48,
       std::nullopt,
       s3errc::not_implemented},
      {"x-amz-sdk-checksum-algorithm with no checksum",
       PayloadMode::unsigned_payload,
       {{"x-amz-sdk-checksum-algorithm", "CRC32"}},
       5,
       std::nullopt,
       s3errc::invalid_request},
      {"x-amz-sdk-checksum-algorithm naming another algorithm",
       PayloadMode::streaming_unsigned_trailer,
       {{"x-amz-decoded-content-length", "5"},
        {"x-amz-sdk-checksum-algorithm", "CRC32C"},
        {"x-amz-trailer", "x-amz-checksum-crc32"}},
       48,
       std::nullopt,
       s3errc::invalid_request},
      {"x-amz-sdk-checksum-algorithm naming no algorithm",
       PayloadMode::unsigned_payload,
       {{"x-amz-sdk-checksum-algorithm", "MD5"}, {"x-amz-checksum-crc32", put_hello_crc32}},
       5,
       std::nullopt,
       s3errc::invalid_argument},
      {"Content-Encoding aws-chunked on a body as sent",
       PayloadMode::unsigned_payload,
       {{"Content-Encoding", "gzip, AWS-Chunked"}},
       5,
       std::nullopt,
       s3errc::invalid_request},
      {"another Content-Encoding on a body as sent",
       PayloadMode::unsigned_payload,
       {{"Content-Encoding", "gzip"}},
       5,
       Plan{false, 5, {}},
       {}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    const auto plan = mkv::plan_put_body(r.mode, r.headers, r.content_length);
    if (r.plan) {
      REQUIRE_MESSAGE(plan.has_value(), plan.error());
      CHECK(*plan == *r.plan);
    } else {
      REQUIRE_FALSE(plan.has_value());
      CHECK(plan.error().code == r.error);
      CHECK_FALSE(plan.error().message.empty());
    }
  }
}

TEST_CASE("check_put_body: the ended body's trailer and checksum") {
  using Plan = mkv::PutBodyPlan;
  using Sum = mkv::PutChecksum;
  const Plan none{true, 5, {}};
  const Plan header{false, 5,
                    Sum{ChecksumAlgorithm::crc32, ChecksumSource::header, put_hello_crc32}};
  const Plan trailer{true, 5, Sum{ChecksumAlgorithm::crc32, ChecksumSource::trailer, {}}};
  const struct {
    const char* what;
    const Plan& plan;
    mkv::Trailers trailers;
    const char* computed;
    std::optional<s3errc> error;
  } rows[] = {
      {"nothing claimed, no trailer", none, {}, "", std::nullopt},
      {"nothing claimed, a trailer",
       none,
       {{"x-amz-checksum-crc32", put_hello_crc32}},
       "",
       s3errc::invalid_request},
      {"the header's checksum", header, {}, put_hello_crc32, std::nullopt},
      {"not the header's checksum", header, {}, "AAAAAA==", s3errc::bad_digest},
      {"a trailer besides the header's checksum",
       header,
       {{"x-amz-checksum-crc32", put_hello_crc32}},
       put_hello_crc32,
       s3errc::invalid_request},
      {"the trailer's checksum",
       trailer,
       {{"x-amz-checksum-crc32", put_hello_crc32}},
       put_hello_crc32,
       std::nullopt},
      {"not the trailer's checksum",
       trailer,
       {{"x-amz-checksum-crc32", "AAAAAA=="}},
       put_hello_crc32,
       s3errc::bad_digest},
      {"a malformed trailer checksum",
       trailer,
       {{"x-amz-checksum-crc32", "NhCm"}},
       put_hello_crc32,
       s3errc::invalid_argument},
      {"the announced trailer missing", trailer, {}, put_hello_crc32, s3errc::invalid_request},
      {"another checksum in the trailer",
       trailer,
       {{"x-amz-checksum-crc32c", "mnG7TA=="}},
       put_hello_crc32,
       s3errc::invalid_request},
      {"an unannounced trailer besides it",
       trailer,
       {{"x-amz-checksum-crc32", put_hello_crc32}, {"x-amz-meta-color", "red"}},
       put_hello_crc32,
       s3errc::invalid_request},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    const auto checked = mkv::check_put_body(r.plan, r.trailers, r.computed);
    if (!r.error) {
      CHECK_MESSAGE(checked.has_value(), checked.error());
    } else {
      REQUIRE_FALSE(checked.has_value());
      CHECK(checked.error().code == *r.error);
    }
  }
}

TEST_CASE("is_streaming and has_trailer name the aws-chunked modes and those with a trailer") {
  const struct {
    PayloadMode mode;
    bool streaming;
    bool trailer;
  } rows[] = {
      {PayloadMode::sha256, false, false},
      {PayloadMode::unsigned_payload, false, false},
      {PayloadMode::streaming_signed, true, false},
      {PayloadMode::streaming_signed_trailer, true, true},
      {PayloadMode::streaming_unsigned_trailer, true, true},
  };
  for (const auto& r : rows) {
    CAPTURE(static_cast<int>(r.mode));
    CHECK(mkv::is_streaming(r.mode) == r.streaming);
    CHECK(mkv::has_trailer(r.mode) == r.trailer);
  }
}

TEST_CASE("an object keeps Content-Encoding without aws-chunked") {
  const struct {
    const char* value;
    bool lists;
    std::optional<std::string> kept;
  } rows[] = {
      {"aws-chunked", true, std::nullopt},
      {"AWS-Chunked", true, std::nullopt},
      {"aws-chunked,gzip", true, "gzip"},
      {"gzip, aws-chunked", true, "gzip"},
      {" aws-chunked , gzip , br ", true, "gzip,br"},
      {"gzip", false, "gzip"},
      {"", false, std::nullopt},
      {"aws-chunked-not", false, "aws-chunked-not"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.value);
    CHECK(mkv::lists_aws_chunked(r.value) == r.lists);
    CHECK(mkv::stored_content_encoding(r.value) == r.kept);
  }

  const mkv::StoredHeaders chunked = {{"content-encoding", "aws-chunked"},
                                      {"content-type", "text/plain"}};
  CHECK(mkv::without_aws_chunked(chunked) == mkv::StoredHeaders{{"content-type", "text/plain"}});
  const mkv::StoredHeaders gzip = {{"content-encoding", "aws-chunked,gzip"}};
  CHECK(mkv::without_aws_chunked(gzip) == mkv::StoredHeaders{{"content-encoding", "gzip"}});
  const mkv::StoredHeaders plain = {{"content-type", "text/plain"}};
  CHECK(mkv::without_aws_chunked(plain) == plain);
  const mkv::StoredHeaders other = {{"content-encoding", "gzip, br"}};
  CHECK(mkv::without_aws_chunked(other) == other);
}
