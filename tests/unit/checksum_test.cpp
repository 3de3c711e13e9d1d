// Checksums: MD5 in pieces, hex, the ETag, and the Content-MD5 header (RFC 1864).
#include "mkv/checksum.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("md5 of known inputs, whole and in pieces") {
  // Reference digests: RFC 1321's test suite.
  struct Case {
    std::string input;
    std::string hex;
  };
  const std::vector<Case> cases = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    CHECK(mkv::to_hex(mkv::md5_of(c.input)) == c.hex);
    mkv::Md5Stream pieces;
    for (std::size_t i = 0; i < c.input.size(); i += 7) {
      pieces.update(std::string_view(c.input).substr(i, 7));
    }
    CHECK(mkv::to_hex(pieces.finish()) == c.hex);
  }
}

TEST_CASE("hex and the ETag: lower case, quoted") {
  const auto digest = mkv::md5_of("abc");
  CHECK(mkv::to_hex(digest) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(mkv::etag_of(digest) == "\"900150983cd24fb0d6963f7d28e17f72\"");
  mkv::Md5 high{};
  high.fill(0xAB);
  CHECK(mkv::to_hex(high) == "abababababababababababababababab");
}

TEST_CASE("Content-MD5: the base64 of the 16 bytes") {
  const auto digest = mkv::md5_of("abc");
  CHECK(mkv::content_md5_of(digest) == "kAFQmDzST7DWlj99KOF/cg==");
  CHECK(mkv::parse_content_md5("kAFQmDzST7DWlj99KOF/cg==").value() == digest);
  CHECK(mkv::parse_content_md5("  kAFQmDzST7DWlj99KOF/cg== ").value() == digest);
  for (const std::string bad :
       {"", "kAFQmDzST7DWlj99KOF/cg", "kAFQmDzST7DWlj99KOF/cg=", "kAFQmDzST7DWlj99KOF/cg===",
        "kAFQmDzST7DWlj99KOF/c!==", "900150983cd24fb0d6963f7d28e17f72",
        "kAFQmDzST7DWlj99KOF/cgAA", "a2FGUW1EelNUN0RXbGo5OUtPRi9jZz09"}) {
    CAPTURE(bad);
    const auto parsed = mkv::parse_content_md5(bad);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error() == mkv::Error::bad_digest("Content-MD5 is not the base64 of 16 bytes"));
  }
}
