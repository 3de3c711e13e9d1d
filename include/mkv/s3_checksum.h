// The x-amz-checksum-* checksums of S3 (CRC32, CRC32C, SHA-1, SHA-256): which algorithm a header
// or trailer names, the checksum of a body computed as it streams, in base64 as S3 writes it,
// and the check of a value a client claims. CRC64NVME is named but not implemented.
//
// S3 writes every checksum as the base64 of its bytes, a CRC as its 4 bytes big-endian (the CRC32
// of "hello" is 0x3610a686, sent as "NhCmhg=="). Reference: docs.aws.amazon.com/AmazonS3/latest/
// userguide/checking-object-integrity.html.
#pragma once

#include "mkv/s3_error.h"
#include "mkv/sigv4_canonical.h"

#include <cryptopp/base64.h>
#include <cryptopp/crc.h>
#include <cryptopp/filters.h>
#include <cryptopp/sha.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// The checksum algorithms mkv computes.
enum class ChecksumAlgorithm { crc32, crc32c, sha1, sha256 };

// Returns the algorithm's name as S3 spells it in x-amz-checksum-algorithm ("CRC32").
[[nodiscard]] inline std::string_view checksum_algorithm_name(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::crc32: return "CRC32";
    case ChecksumAlgorithm::crc32c: return "CRC32C";
    case ChecksumAlgorithm::sha1: return "SHA1";
    case ChecksumAlgorithm::sha256: return "SHA256";
  }
  return "";  // unreachable: every algorithm is handled above
}

// Returns the name of the header or trailer that carries the algorithm's checksum
// ("x-amz-checksum-crc32").
[[nodiscard]] inline std::string_view checksum_header_name(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::crc32: return "x-amz-checksum-crc32";
    case ChecksumAlgorithm::crc32c: return "x-amz-checksum-crc32c";
    case ChecksumAlgorithm::sha1: return "x-amz-checksum-sha1";
    case ChecksumAlgorithm::sha256: return "x-amz-checksum-sha256";
  }
  return "";  // unreachable: every algorithm is handled above
}

// Returns how many bytes the algorithm's checksum has (4 for a CRC, 20 and 32 for the SHAs).
[[nodiscard]] inline std::size_t checksum_size(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::crc32: return 4;
    case ChecksumAlgorithm::crc32c: return 4;
    case ChecksumAlgorithm::sha1: return 20;
    case ChecksumAlgorithm::sha256: return 32;
  }
  return 0;  // unreachable: every algorithm is handled above
}

namespace detail {

// Returns the algorithm that the upper-case name ("CRC32") stands for; not_implemented for
// CRC64NVME, invalid_argument for a name S3 does not define. what says where the name came from.
[[nodiscard]] inline S3Result<ChecksumAlgorithm> checksum_algorithm_named(std::string_view upper,
                                                                          std::string_view what) {
  if (upper == "CRC32") return ChecksumAlgorithm::crc32;
  if (upper == "CRC32C") return ChecksumAlgorithm::crc32c;
  if (upper == "SHA1") return ChecksumAlgorithm::sha1;
  if (upper == "SHA256") return ChecksumAlgorithm::sha256;
  if (upper == "CRC64NVME") {
    return s3_error(s3errc::not_implemented,
                    std::string(what) +
                        " names CRC64NVME, which mkv does not implement; use CRC32, CRC32C, SHA1 "
                        "or SHA256");
  }
  return s3_error(s3errc::invalid_argument,
                  std::string(what) + " names no checksum algorithm S3 defines");
}

[[nodiscard]] inline std::string upper_case(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  }
  return out;
}

[[nodiscard]] inline bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Returns bytes in base64 with '=' padding and no line breaks.
[[nodiscard]] inline std::string base64(std::span<const std::uint8_t> bytes) {
  std::string encoded;
  CryptoPP::StringSource source(
      bytes.data(), bytes.size(), true,
      new CryptoPP::Base64Encoder(new CryptoPP::StringSink(encoded), false));
  return encoded;
}

}  // namespace detail

// The prefix of every checksum header and trailer name.
inline constexpr std::string_view checksum_header_prefix = "x-amz-checksum-";

// Returns whether a header name (any case) carries a checksum value: x-amz-checksum-<algorithm>,
// but not x-amz-checksum-algorithm, -type or -mode, which say how to checksum instead.
[[nodiscard]] inline bool is_checksum_header(std::string_view name) {
  if (name.size() <= checksum_header_prefix.size() ||
      !detail::iequals(name.substr(0, checksum_header_prefix.size()), checksum_header_prefix)) {
    return false;
  }
  const auto rest = name.substr(checksum_header_prefix.size());
  return !detail::iequals(rest, "algorithm") && !detail::iequals(rest, "type") &&
         !detail::iequals(rest, "mode");
}

// Returns the algorithm whose checksum a header or trailer named name (any case) carries:
// x-amz-checksum-crc32, -crc32c, -sha1 or -sha256. not_implemented for -crc64nvme;
// invalid_argument for any other name.
[[nodiscard]] inline S3Result<ChecksumAlgorithm> checksum_algorithm_of_header(
    std::string_view name) {
  // Built with += rather than "'" + std::string(name): GCC 12 at -O3 warns about the latter
  // with a false -Wrestrict.
  std::string quoted = "'";
  quoted += name;
  quoted += '\'';
  if (!is_checksum_header(name)) {
    return s3_error(s3errc::invalid_argument,
                    quoted + " is not an x-amz-checksum-<algorithm> name");
  }
  return detail::checksum_algorithm_named(
      detail::upper_case(name.substr(checksum_header_prefix.size())), quoted);
}

// Returns the algorithm an x-amz-checksum-algorithm or x-amz-sdk-checksum-algorithm value names
// ("CRC32", any case); not_implemented for CRC64NVME, invalid_argument for any other value.
[[nodiscard]] inline S3Result<ChecksumAlgorithm> parse_checksum_algorithm(std::string_view value) {
  return detail::checksum_algorithm_named(detail::upper_case(value),
                                          "the checksum algorithm '" + std::string(value) + "'");
}

// A checksum a request claims: which algorithm, and the base64 value as sent.
struct ClaimedChecksum {
  ChecksumAlgorithm algorithm;
  std::string_view value;
  friend bool operator==(const ClaimedChecksum&, const ClaimedChecksum&) = default;
};

// Returns the checksum a request's headers claim, nothing when they claim none, or an error:
// invalid_request when more than one x-amz-checksum-<algorithm> header is sent (S3 accepts one),
// and the errors of checksum_algorithm_of_header().
[[nodiscard]] inline S3Result<std::optional<ClaimedChecksum>> claimed_checksum(
    std::span<const Header> headers) {
  std::optional<ClaimedChecksum> claimed;
  for (const auto& h : headers) {
    if (!is_checksum_header(h.name)) continue;
    const auto algorithm = checksum_algorithm_of_header(h.name);
    if (!algorithm) return algorithm.error();
    if (claimed) {
      return s3_error(s3errc::invalid_request,
                      "a request may carry one x-amz-checksum-* header, not several");
    }
    claimed = ClaimedChecksum{*algorithm, detail::trim_ows(h.value)};
  }
  return claimed;
}

// The checksum of a body, fed in pieces, in the form S3 writes it.
class ChecksumStream {
 public:
  explicit ChecksumStream(ChecksumAlgorithm algorithm) : algorithm_(algorithm) {
    switch (algorithm) {
      case ChecksumAlgorithm::crc32: hash_ = std::make_unique<CryptoPP::CRC32>(); break;
      case ChecksumAlgorithm::crc32c: hash_ = std::make_unique<CryptoPP::CRC32C>(); break;
      case ChecksumAlgorithm::sha1: hash_ = std::make_unique<CryptoPP::SHA1>(); break;
      case ChecksumAlgorithm::sha256: hash_ = std::make_unique<CryptoPP::SHA256>(); break;
    }
  }

  // Returns the algorithm this stream computes.
  [[nodiscard]] ChecksumAlgorithm algorithm() const { return algorithm_; }

  // Adds the next bytes of the body.
  void update(std::span<const char> bytes) {
    hash_->Update(reinterpret_cast<const CryptoPP::byte*>(bytes.data()), bytes.size());
  }

  // Returns the checksum of everything added as bytes (a CRC big-endian), and starts over.
  [[nodiscard]] std::vector<std::uint8_t> finish_bytes() {
    std::vector<std::uint8_t> digest(hash_->DigestSize());
    hash_->Final(digest.data());
    // Crypto++ writes a CRC low byte first, on every platform (it keeps the register
    // byte-swapped on big-endian machines); S3 wants the CRC as a big-endian number.
    if (algorithm_ == ChecksumAlgorithm::crc32 || algorithm_ == ChecksumAlgorithm::crc32c) {
      std::reverse(digest.begin(), digest.end());
    }
    return digest;
  }

  // Returns the checksum of everything added in base64, as x-amz-checksum-* carries it, and
  // starts over.
  [[nodiscard]] std::string finish() { return detail::base64(finish_bytes()); }

 private:
  ChecksumAlgorithm algorithm_;
  std::unique_ptr<CryptoPP::HashTransformation> hash_;
};

// Returns the checksum of bytes in base64.
[[nodiscard]] inline std::string checksum_of(ChecksumAlgorithm algorithm, std::string_view bytes) {
  ChecksumStream stream(algorithm);
  stream.update(bytes);
  return stream.finish();
}

// Returns the bytes of a claimed checksum value, or invalid_argument unless it is the canonical
// base64 (padded, no spaces, unused bits zero) of as many bytes as the algorithm's checksum has.
[[nodiscard]] inline S3Result<std::vector<std::uint8_t>> parse_checksum_value(
    ChecksumAlgorithm algorithm, std::string_view value) {
  const std::size_t size = checksum_size(algorithm);
  const auto malformed = [&] {
    return s3_error(s3errc::invalid_argument, std::string(checksum_header_name(algorithm)) + " '" +
                                                  std::string(value) + "' is not the base64 of " +
                                                  std::to_string(size) + " bytes");
  };
  const std::size_t padding = (3 - size % 3) % 3;
  const std::size_t length = (size + 2) / 3 * 4;
  if (value.size() != length ||
      !std::all_of(value.begin(), value.end() - padding, detail::is_base64_char) ||
      !std::all_of(value.end() - padding, value.end(), [](char c) { return c == '='; })) {
    return malformed();
  }
  std::string decoded;
  CryptoPP::StringSource source(reinterpret_cast<const CryptoPP::byte*>(value.data()), value.size(),
                                true,
                                new CryptoPP::Base64Decoder(new CryptoPP::StringSink(decoded)));
  std::vector<std::uint8_t> bytes(decoded.begin(), decoded.end());
  // Base64 that sets the unused bits of its last digit decodes to the same bytes; refuse it, so
  // that one checksum has one spelling.
  if (bytes.size() != size || detail::base64(bytes) != value) return malformed();
  return bytes;
}

// Returns success when the claimed base64 value is the computed one; invalid_argument when the
// claim is malformed (see parse_checksum_value()), bad_digest when it differs.
[[nodiscard]] inline S3Result<void> check_checksum(ChecksumAlgorithm algorithm,
                                                   std::string_view claimed,
                                                   std::string_view computed) {
  const auto parsed = parse_checksum_value(algorithm, claimed);
  if (!parsed) return parsed.error();
  if (claimed != computed) {
    const std::string name(checksum_algorithm_name(algorithm));
    return s3_error(s3errc::bad_digest, "The " + name + " you specified (" + std::string(claimed) +
                                            ") did not match the calculated checksum (" +
                                            std::string(computed) + ")");
  }
  return {};
}

}  // namespace mkv
