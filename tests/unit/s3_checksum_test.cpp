// x-amz-checksum-*: CRC32, CRC32C, SHA-1 and SHA-256 in S3's base64 form, whole and in pieces;
// which algorithm a name means; and the check of a claimed value.
//
// The golden values were computed apart from mkv, with Python 3:
//   base64.b64encode(zlib.crc32(s).to_bytes(4, "big"))
//   base64.b64encode(crc32c(s).to_bytes(4, "big")), crc32c a bitwise reference: crc = 0xFFFFFFFF;
//     for each byte b: crc ^= b, then 8 times crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0);
//     return crc ^ 0xFFFFFFFF (it gives 0xE3069283 for "123456789", the CRC-32C check value)
//   base64.b64encode(hashlib.sha1(s).digest()), base64.b64encode(hashlib.sha256(s).digest())
// The CRC32C of 66,560 'a's, sOO8/Q==, is also the x-amz-checksum-crc32c of AWS's example in
// sigv4-streaming-trailers.html.
#include "mkv/s3_checksum.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using mkv::ChecksumAlgorithm;
using mkv::s3errc;

TEST_CASE("checksums of known inputs, whole and in pieces, as S3's base64") {
  const std::string fox = "The quick brown fox jumps over the lazy dog";
  const std::string many_a(66560, 'a');
  const struct {
    std::string input;
    const char* crc32;
    const char* crc32c;
    const char* sha1;
    const char* sha256;
  } rows[] = {
      {"", "AAAAAA==", "AAAAAA==", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
       "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
      {"hello", "NhCmhg==", "mnG7TA==", "qvTGHdzF6KLavt4PO0gs2a6pQ00=",
       "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="},
      {"123456789", "y/Q5Jg==", "4waSgw==", "98O8HYCOBHMq32eZZczDTKeuNEE=",
       "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
      {fox, "QU+jOQ==", "ImIEBA==", "L9ThxnotKPzthJ7hu3bnORuT6xI=",
       "16j7swfXgJRpypq8sAguT41WUeRtPNt2LQLQvzfJ5ZI="},
      {many_a, "sK4Y7A==", "sOO8/Q==", "qOlv5ixdz2jRNhlSLmgH6iaTKRI=",
       "zWnTiHxq+SZLEA17dgIzEzXZqn4718MM3G1vS/uzyIg="},
  };
  for (const auto& r : rows) {
    CAPTURE(r.input.size());
    const std::pair<ChecksumAlgorithm, const char*> expected[] = {
        {ChecksumAlgorithm::crc32, r.crc32},
        {ChecksumAlgorithm::crc32c, r.crc32c},
        {ChecksumAlgorithm::sha1, r.sha1},
        {ChecksumAlgorithm::sha256, r.sha256},
    };
    for (const auto& e : expected) {
      // A named copy, not a structured binding: clang 14's CAPTURE cannot capture one.
      const ChecksumAlgorithm algorithm = e.first;
      const char* const value = e.second;
      CAPTURE(mkv::checksum_algorithm_name(algorithm));
      CHECK(mkv::checksum_of(algorithm, r.input) == value);
      mkv::ChecksumStream pieces(algorithm);
      for (std::size_t i = 0; i < r.input.size(); i += 1000) {
        pieces.update(std::string_view(r.input).substr(i, 1000));
      }
      CHECK(pieces.finish() == value);
      // finish() starts over: the next checksum is of what is added after it.
      pieces.update(std::string_view("hello"));
      CHECK(pieces.finish() == mkv::checksum_of(algorithm, "hello"));
    }
  }
}

TEST_CASE("a CRC is its 4 bytes big-endian") {
  mkv::ChecksumStream crc32(ChecksumAlgorithm::crc32);
  crc32.update(std::string_view("hello"));
  CHECK(crc32.finish_bytes() == std::vector<std::uint8_t>{0x36, 0x10, 0xa6, 0x86});
  mkv::ChecksumStream crc32c(ChecksumAlgorithm::crc32c);
  crc32c.update(std::string_view("123456789"));
  CHECK(crc32c.finish_bytes() == std::vector<std::uint8_t>{0xe3, 0x06, 0x92, 0x83});
}

TEST_CASE("the algorithm a header or trailer name carries, in any case") {
  const struct {
    const char* name;
    ChecksumAlgorithm algorithm;
  } rows[] = {
      {"x-amz-checksum-crc32", ChecksumAlgorithm::crc32},
      {"x-amz-checksum-crc32c", ChecksumAlgorithm::crc32c},
      {"x-amz-checksum-sha1", ChecksumAlgorithm::sha1},
      {"x-amz-checksum-sha256", ChecksumAlgorithm::sha256},
      {"X-Amz-Checksum-CRC32C", ChecksumAlgorithm::crc32c},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    CHECK(mkv::is_checksum_header(r.name));
    CHECK(mkv::checksum_algorithm_of_header(r.name).value() == r.algorithm);
    CHECK(mkv::detail::iequals(mkv::checksum_header_name(r.algorithm), r.name));
  }

  const struct {
    const char* name;
    s3errc code;
    const char* says;
  } refused[] = {
      {"x-amz-checksum-crc64nvme", s3errc::not_implemented, "CRC64NVME"},
      {"x-amz-checksum-md5", s3errc::invalid_argument, "no checksum algorithm"},
      {"x-amz-checksum-crc32 ", s3errc::invalid_argument, "no checksum algorithm"},
      {"x-amz-checksum-", s3errc::invalid_argument, "is not an x-amz-checksum"},
      {"x-amz-checksum-algorithm", s3errc::invalid_argument, "is not an x-amz-checksum"},
      {"x-amz-checksum-type", s3errc::invalid_argument, "is not an x-amz-checksum"},
      {"x-amz-checksum-mode", s3errc::invalid_argument, "is not an x-amz-checksum"},
      {"content-md5", s3errc::invalid_argument, "is not an x-amz-checksum"},
  };
  for (const auto& r : refused) {
    CAPTURE(r.name);
    const auto parsed = mkv::checksum_algorithm_of_header(r.name);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == r.code);
    CHECK(parsed.error().message.find(r.says) != std::string::npos);
  }
}

TEST_CASE("the algorithm x-amz-checksum-algorithm names") {
  CHECK(mkv::parse_checksum_algorithm("CRC32").value() == ChecksumAlgorithm::crc32);
  CHECK(mkv::parse_checksum_algorithm("crc32c").value() == ChecksumAlgorithm::crc32c);
  CHECK(mkv::parse_checksum_algorithm("SHA1").value() == ChecksumAlgorithm::sha1);
  CHECK(mkv::parse_checksum_algorithm("Sha256").value() == ChecksumAlgorithm::sha256);
  CHECK(mkv::parse_checksum_algorithm("CRC64NVME").error().code == s3errc::not_implemented);
  CHECK(mkv::parse_checksum_algorithm("MD5").error().code == s3errc::invalid_argument);
  CHECK(mkv::parse_checksum_algorithm("").error().code == s3errc::invalid_argument);
}

TEST_CASE("the checksum a request's headers claim: none, one, or refused") {
  using H = mkv::Header;
  const std::vector<H> none = {{"Host", "h"}, {"x-amz-checksum-algorithm", "CRC32"}};
  CHECK_FALSE(mkv::claimed_checksum(none).value().has_value());

  const std::vector<H> one = {{"Host", "h"},
                              {"X-Amz-Checksum-Crc32", " NhCmhg== "},
                              {"x-amz-sdk-checksum-algorithm", "CRC32"}};
  const auto claimed = mkv::claimed_checksum(one).value();
  REQUIRE(claimed.has_value());
  CHECK(*claimed == mkv::ClaimedChecksum{ChecksumAlgorithm::crc32, "NhCmhg=="});

  const std::vector<H> two = {{"x-amz-checksum-crc32", "NhCmhg=="},
                              {"x-amz-checksum-sha1", "qvTGHdzF6KLavt4PO0gs2a6pQ00="}};
  CHECK(mkv::claimed_checksum(two).error().code == s3errc::invalid_request);
  const std::vector<H> nvme = {{"x-amz-checksum-crc64nvme", "AAAAAAAAAAA="}};
  CHECK(mkv::claimed_checksum(nvme).error().code == s3errc::not_implemented);
}

TEST_CASE("a claimed value: equal passes, different is BadDigest, malformed InvalidArgument") {
  const auto crc32 = ChecksumAlgorithm::crc32;
  const auto sha256 = ChecksumAlgorithm::sha256;
  const std::string hello_sha256 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
  CHECK(mkv::check_checksum(crc32, "NhCmhg==", "NhCmhg==").has_value());
  CHECK(mkv::check_checksum(sha256, hello_sha256, hello_sha256).has_value());

  const auto mismatch = mkv::check_checksum(crc32, "mnG7TA==", "NhCmhg==");
  REQUIRE_FALSE(mismatch.has_value());
  CHECK(mismatch.error().code == s3errc::bad_digest);
  CHECK(mismatch.error().message.find("CRC32") != std::string::npos);
  CHECK(mismatch.error().message.find("mnG7TA==") != std::string::npos);

  const struct {
    ChecksumAlgorithm algorithm;
    const char* claimed;
  } malformed[] = {
      {crc32, ""},
      {crc32, "NhCmhg="},    // too short
      {crc32, "NhCmhg==="},  // too long
      {crc32, "NhCmhgA="},   // 5 bytes, not 4
      {crc32, "NhCmhh=="},   // unused bits set: not the canonical spelling
      {crc32, "NhC!hg=="},   // not base64
      {crc32, " NhCmhg="},   // a space
      {crc32, "3610a686"},   // hex, not base64
      {crc32, "NhCm\nhg="},  // a line break
      {sha256, "NhCmhg=="},  // a CRC for a SHA-256
      {sha256, "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"},  // no padding
      {ChecksumAlgorithm::sha1, "qvTGHdzF6KLavt4PO0gs2a6pQ00"},
  };
  for (const auto& r : malformed) {
    CAPTURE(r.claimed);
    const auto checked = mkv::check_checksum(r.algorithm, r.claimed, r.claimed);
    REQUIRE_FALSE(checked.has_value());
    CHECK(checked.error().code == s3errc::invalid_argument);
    CHECK(checked.error().message.find("is not the base64 of") != std::string::npos);
  }
  CHECK(mkv::parse_checksum_value(crc32, "NhCmhg==").value() ==
        std::vector<std::uint8_t>{0x36, 0x10, 0xa6, 0x86});
}
