// SHA-256 and HMAC-SHA256 (Crypto++), and the SigV4 signing key made of them: the hashing under
// mkv's S3 authentication (mkv/sigv4.h).
#pragma once

#include <cryptopp/hmac.h>
#include <cryptopp/sha.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mkv {

// The 32 bytes of a SHA-256 digest or of an HMAC-SHA256.
using Sha256 = std::array<std::uint8_t, 32>;
// The key that signs one day's requests of one access key in one region: the end of the HMAC
// chain "AWS4"+secret -> date -> region -> service -> "aws4_request".
using SigningKey = Sha256;

// The SHA-256 of the empty string, in hex: the payload hash of a bodiless request.
inline constexpr std::string_view empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Returns bytes in lower-case hex.
[[nodiscard]] inline std::string lower_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

// The SHA-256 of a body, fed in pieces.
class Sha256Stream {
 public:
  // Adds the next bytes of the body.
  void update(std::span<const char> bytes) {
    hash_.Update(reinterpret_cast<const CryptoPP::byte*>(bytes.data()), bytes.size());
  }
  // Returns the digest of everything added, and starts over.
  [[nodiscard]] Sha256 finish() {
    Sha256 digest;
    hash_.Final(digest.data());
    return digest;
  }

 private:
  CryptoPP::SHA256 hash_;
};

// Returns the SHA-256 of bytes in hex.
[[nodiscard]] inline std::string sha256_hex(std::string_view bytes) {
  Sha256Stream stream;
  stream.update(bytes);
  return lower_hex(stream.finish());
}

// Returns HMAC-SHA256(key, message).
[[nodiscard]] inline Sha256 hmac_sha256(std::span<const std::uint8_t> key,
                                        std::string_view message) {
  CryptoPP::HMAC<CryptoPP::SHA256> mac(key.data(), key.size());
  mac.Update(reinterpret_cast<const CryptoPP::byte*>(message.data()), message.size());
  Sha256 out;
  mac.Final(out.data());
  return out;
}

// Returns the signing key of secret for date (YYYYMMDD), region and service.
[[nodiscard]] inline SigningKey derive_signing_key(std::string_view secret, std::string_view date,
                                                   std::string_view region,
                                                   std::string_view service) {
  const std::string first = "AWS4" + std::string(secret);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(first.data());
  SigningKey key = hmac_sha256({bytes, first.size()}, date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  return hmac_sha256(key, "aws4_request");
}

// Returns the hex signature of string_to_sign under key.
[[nodiscard]] inline std::string sign(const SigningKey& key, std::string_view string_to_sign) {
  return lower_hex(hmac_sha256(key, string_to_sign));
}

// Returns whether two signatures are equal, in time that depends only on their lengths.
[[nodiscard]] inline bool signatures_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i) differ |= static_cast<unsigned char>(a[i] ^ b[i]);
  return differ == 0;
}

}  // namespace mkv
