// Checksums of blobs: the MD5 of a body computed as it streams, its hex and base64 forms, the
// ETag made of it, and the Content-MD5 request header (RFC 1864).
//
// MD5 because it is what HTTP's Content-MD5, S3's ETag and the clients that check ETags speak;
// its job here is to notice bit rot and damaged copies, not to resist an attacker.
#pragma once

#include "mkv/error.h"

#define CRYPTOPP_ENABLE_NAMESPACE_WEAK 1
#include <cryptopp/base64.h>
#include <cryptopp/filters.h>
#include <cryptopp/hex.h>
#include <cryptopp/md5.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mkv {

// The 16 bytes of an MD5 digest.
using Md5 = std::array<std::uint8_t, 16>;

// The MD5 of a body, fed in pieces.
class Md5Stream {
 public:
  // Adds the next bytes of the body.
  void update(std::span<const char> bytes) {
    hash_.Update(reinterpret_cast<const CryptoPP::byte*>(bytes.data()), bytes.size());
  }
  // Returns the digest of everything added, and starts over.
  [[nodiscard]] Md5 finish() {
    Md5 digest;
    hash_.Final(digest.data());
    return digest;
  }

 private:
  CryptoPP::Weak::MD5 hash_;
};

// Returns the MD5 of bytes.
[[nodiscard]] inline Md5 md5_of(std::string_view bytes) {
  Md5Stream stream;
  stream.update(bytes);
  return stream.finish();
}

// Returns the digest as 32 lower-case hex digits.
[[nodiscard]] inline std::string to_hex(const Md5& digest) {
  std::string hex;
  CryptoPP::StringSource source(digest.data(), digest.size(), true,
                                new CryptoPP::HexEncoder(new CryptoPP::StringSink(hex), false));
  return hex;
}

// Returns the ETag of a blob with this digest: the hex digest in double quotes (a strong tag).
[[nodiscard]] inline std::string etag_of(const Md5& digest) { return '"' + to_hex(digest) + '"'; }

// Returns the digest a Content-MD5 header value names (base64 of the 16 bytes, RFC 1864), or
// bad_digest saying what is wrong with it.
[[nodiscard]] inline Result<Md5> parse_content_md5(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  const auto malformed = [] {
    return Error::bad_digest("Content-MD5 is not the base64 of 16 bytes");
  };
  if (value.size() != 24 || value.substr(22) != "==") return malformed();
  for (const char c : value.substr(0, 22)) {
    const bool base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!base64) return malformed();
  }
  std::string decoded;
  CryptoPP::StringSource source(reinterpret_cast<const CryptoPP::byte*>(value.data()),
                                value.size(), true,
                                new CryptoPP::Base64Decoder(new CryptoPP::StringSink(decoded)));
  if (decoded.size() != 16) return malformed();
  Md5 digest;
  for (std::size_t i = 0; i < 16; ++i) digest[i] = static_cast<std::uint8_t>(decoded[i]);
  return digest;
}

// Returns the Content-MD5 header value of a digest (base64 of the 16 bytes).
[[nodiscard]] inline std::string content_md5_of(const Md5& digest) {
  std::string encoded;
  CryptoPP::StringSource source(digest.data(), digest.size(), true,
                                new CryptoPP::Base64Encoder(new CryptoPP::StringSink(encoded),
                                                            false));
  return encoded;
}

}  // namespace mkv
