// SigV4 signing of mkv-load's S3 requests (bench/http/load.cpp): the x-amz-date,
// x-amz-content-sha256 and Authorization headers of one request, signed as an AWS SDK signs
// them, with the day's signing key derived once and kept. Built on mkv's own canonical forms
// (mkv/sigv4_canonical.h, mkv/sha256.h), the ones the server checks signatures with.
#pragma once

#include "mkv/sha256.h"
#include "mkv/sigv4_canonical.h"

#include <array>
#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mkv_load {

// The x-amz-content-sha256 of a body that is not signed (what the large PutObjects send, so
// that the generator does not spend a core on SHA-256).
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";

// Returns the ISO 8601 basic form "YYYYMMDDTHHMMSSZ" of Unix time t, as x-amz-date wants it.
[[nodiscard]] inline std::string amz_date(std::time_t t) {
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[20];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

// Returns the x-amz-date of now.
[[nodiscard]] inline std::string amz_date_now() {
  return amz_date(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()));
}

// An S3 user, and the region its requests are signed for.
struct S3Key {
  std::string access_key;
  std::string secret;
  std::string region = "us-east-1";
};

// Returns the key of "ACCESS_KEY_ID:SECRET" in region, or nothing when either part is empty.
[[nodiscard]] inline std::optional<S3Key> parse_s3_key(std::string_view text, std::string region) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return std::nullopt;
  }
  return S3Key{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1)),
               std::move(region)};
}

// Signs requests with one key, in the Authorization header, over the headers host,
// x-amz-content-sha256 and x-amz-date. Keeps the signing key of the day it last signed for,
// as an SDK does, so a request costs the hashes of its own canonical request and string to
// sign. Not thread-safe: give each connection its own copy.
class S3Signer {
 public:
  explicit S3Signer(S3Key key) : key_(std::move(key)) {}

  // Appends the header lines x-amz-date, x-amz-content-sha256 and Authorization (each ending
  // in CRLF) of a request signed at date (YYYYMMDDTHHMMSSZ) to head. target is the request's
  // path as sent, without a query; host its Host header; payload_hash the body's SHA-256 in
  // lower-case hex, or unsigned_payload.
  void append_headers(std::string& head, std::string_view method, std::string_view target,
                      std::string_view host, std::string_view payload_hash, std::string_view date) {
    static const std::array<std::string, 3> names{"host", "x-amz-content-sha256", "x-amz-date"};
    const std::array<mkv::Header, 3> headers{
        {{"host", host}, {"x-amz-content-sha256", payload_hash}, {"x-amz-date", date}}};
    const std::string_view day = date.substr(0, 8);
    const std::string scope = std::string(day) + '/' + key_.region + "/s3/aws4_request";
    // Neither can fail here: every signed header is in headers, and the generator's paths
    // have no '%' (were one malformed, the server would refuse the request, and it would count
    // as an error).
    const auto block = mkv::canonical_headers(headers, names);
    const auto uri = mkv::canonical_uri(target);
    const std::string canonical =
        mkv::canonical_request(method, uri ? std::string_view(*uri) : target, "",
                               block ? std::string_view(*block) : "", signed_headers, payload_hash);
    const std::string signature =
        mkv::sign(key_for(day), mkv::string_to_sign(date, scope, canonical));
    head += "x-amz-date: ";
    head += date;
    head += "\r\nx-amz-content-sha256: ";
    head += payload_hash;
    head += "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=";
    head += key_.access_key;
    head += '/';
    head += scope;
    head += ", SignedHeaders=";
    head += signed_headers;
    head += ", Signature=";
    head += signature;
    head += "\r\n";
  }

 private:
  static constexpr std::string_view signed_headers = "host;x-amz-content-sha256;x-amz-date";

  // Returns the signing key of day (YYYYMMDD), derived when the day changes.
  const mkv::SigningKey& key_for(std::string_view day) {
    if (day != day_) {
      signing_key_ = mkv::derive_signing_key(key_.secret, day, key_.region, "s3");
      day_ = day;
    }
    return signing_key_;
  }

  S3Key key_;
  std::string day_;  // the day signing_key_ is for; empty before the first request
  mkv::SigningKey signing_key_{};
};

}  // namespace mkv_load
