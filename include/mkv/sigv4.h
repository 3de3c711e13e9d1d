// AWS Signature Version 4 as S3 checks it: the Authorization header, presigned URLs (query
// authentication), the request time and the payload modes, and authenticate(), which decides
// whether a request is signed by a known key. Pure: the caller hands in the request's parts,
// the time and a way to find the signing key of an access key (the server caches derived keys).
// The canonical forms are in mkv/sigv4_canonical.h, the hashing in mkv/sha256.h.
//
// References: docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html,
// sigv4-query-string-auth.html, sigv4-streaming.html, sigv4-streaming-trailers.html.
#pragma once

#include "mkv/s3_error.h"
#include "mkv/sha256.h"
#include "mkv/sigv4_canonical.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

// How far a request's time may be from the server's, either way (AWS: 15 minutes).
inline constexpr std::int64_t max_clock_skew_seconds = 15 * 60;
// The longest life of a presigned URL (AWS: 7 days).
inline constexpr std::int64_t max_presigned_expiry_seconds = 7 * 24 * 3600;

// The credential of a signature: who signed, and the scope (day, region, service) the key
// is for.
struct Credential {
  std::string access_key;
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;

  // Returns "date/region/service/aws4_request", as the string to sign names it.
  [[nodiscard]] std::string scope() const {
    return date + '/' + region + '/' + service + "/aws4_request";
  }
  friend bool operator==(const Credential&, const Credential&) = default;
};

// Returns the credential "AKID/YYYYMMDD/region/service/aws4_request", or
// authorization_header_malformed saying what is wrong with it.
[[nodiscard]] inline S3Result<Credential> parse_credential(std::string_view text) {
  const auto parts = detail::split(text, '/');
  const auto malformed = [&](std::string why) {
    return s3_error(s3errc::authorization_header_malformed,
                    "the credential '" + std::string(text) + "' " + why);
  };
  if (parts.size() != 5) {
    return malformed("is not ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request");
  }
  if (parts[0].empty()) return malformed("has no access key");
  if (parts[1].size() != 8 || !detail::all_digits(parts[1])) {
    return malformed("has a date that is not YYYYMMDD");
  }
  if (parts[2].empty()) return malformed("has no region");
  if (parts[3] != "s3") return malformed("is not for the service s3");
  if (parts[4] != "aws4_request") return malformed("does not end in aws4_request");
  return Credential{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                    std::string(parts[3])};
}

// Returns the signed header names of "a;b;c": lower-case, sorted and unique as the signer
// must send them, or authorization_header_malformed.
[[nodiscard]] inline S3Result<std::vector<std::string>> parse_signed_headers(
    std::string_view text) {
  std::vector<std::string> names;
  for (const auto name : detail::split(text, ';')) {
    const bool lower = !name.empty() && std::none_of(name.begin(), name.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || c == ' ' || c == ':';
    });
    if (!lower) {
      return s3_error(s3errc::authorization_header_malformed,
                      "SignedHeaders '" + std::string(text) +
                          "' is not a list of lower-case header names separated by ';'");
    }
    names.emplace_back(name);
  }
  if (!std::is_sorted(names.begin(), names.end()) ||
      std::adjacent_find(names.begin(), names.end()) != names.end()) {
    return s3_error(s3errc::authorization_header_malformed,
                    "SignedHeaders '" + std::string(text) + "' is not sorted or repeats a name");
  }
  if (!std::binary_search(names.begin(), names.end(), "host")) {
    return s3_error(s3errc::authorization_header_malformed,
                    "SignedHeaders '" + std::string(text) + "' does not include host");
  }
  return names;
}

// Returns whether text is a signature: 64 lower-case hex digits.
[[nodiscard]] inline bool is_signature(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The three parts of "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
struct AuthorizationHeader {
  Credential credential;
  std::vector<std::string> signed_headers;
  std::string signature;
};

// Returns the parts of an Authorization header value, or authorization_header_malformed (or
// not_implemented for another scheme, such as SigV2's "AWS AKID:sig").
[[nodiscard]] inline S3Result<AuthorizationHeader> parse_authorization(std::string_view value) {
  constexpr std::string_view scheme = "AWS4-HMAC-SHA256";
  value = detail::trim_ows(value);
  if (!value.starts_with(scheme) || value.size() == scheme.size() || value[scheme.size()] != ' ') {
    if (value.starts_with("AWS ")) {
      return s3_error(s3errc::not_implemented,
                      "Signature Version 2 is not supported; sign with AWS4-HMAC-SHA256");
    }
    return s3_error(s3errc::authorization_header_malformed,
                    "the Authorization header does not start with AWS4-HMAC-SHA256");
  }
  std::optional<std::string_view> credential, signed_headers, signature;
  for (auto part : detail::split(value.substr(scheme.size() + 1), ',')) {
    part = detail::trim_ows(part);
    const auto eq = part.find('=');
    const auto name = part.substr(0, eq);
    const auto field = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    std::optional<std::string_view>* slot = name == "Credential"      ? &credential
                                            : name == "SignedHeaders" ? &signed_headers
                                            : name == "Signature"     ? &signature
                                                                      : nullptr;
    if (slot == nullptr || eq == std::string_view::npos || slot->has_value()) {
      return s3_error(
          s3errc::authorization_header_malformed,
          "the Authorization header has an unexpected part '" + std::string(part) + "'");
    }
    *slot = field;
  }
  if (!credential || !signed_headers || !signature) {
    return s3_error(s3errc::authorization_header_malformed,
                    "the Authorization header needs Credential, SignedHeaders and Signature");
  }
  auto parsed_credential = parse_credential(*credential);
  if (!parsed_credential) return parsed_credential.error();
  auto names = parse_signed_headers(*signed_headers);
  if (!names) return names.error();
  if (!is_signature(*signature)) {
    return s3_error(s3errc::authorization_header_malformed,
                    "the Signature is not 64 lower-case hex digits");
  }
  return AuthorizationHeader{std::move(*parsed_credential), std::move(*names),
                             std::string(*signature)};
}

// Returns the Unix time of an ISO 8601 basic time "YYYYMMDDTHHMMSSZ" (x-amz-date), or
// access_denied saying it is malformed.
[[nodiscard]] inline S3Result<std::int64_t> parse_amz_date(std::string_view text) {
  const auto malformed = [&] {
    return s3_error(s3errc::access_denied,
                    "the request time '" + std::string(text) + "' is not YYYYMMDDTHHMMSSZ");
  };
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z' ||
      !detail::all_digits(text.substr(0, 8)) || !detail::all_digits(text.substr(9, 6))) {
    return malformed();
  }
  const auto number = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  using namespace std::chrono;
  const year_month_day day{year{number(0, 4)}, month{unsigned(number(4, 2))},
                           std::chrono::day{unsigned(number(6, 2))}};
  const int h = number(9, 2), m = number(11, 2), s = number(13, 2);
  if (!day.ok() || h > 23 || m > 59 || s > 59) return malformed();
  return sys_days{day}.time_since_epoch().count() * std::int64_t{86400} + h * 3600 + m * 60 + s;
}

// How the body of a request is vouched for (its x-amz-content-sha256).
enum class PayloadMode {
  sha256,                      // 64 hex digits: the body's SHA-256, checked as it streams
  unsigned_payload,            // UNSIGNED-PAYLOAD: the body is not signed
  streaming_signed,            // STREAMING-AWS4-HMAC-SHA256-PAYLOAD: aws-chunked, signed chunks
  streaming_signed_trailer,    // ...-PAYLOAD-TRAILER: signed chunks and a signed trailer
  streaming_unsigned_trailer,  // STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked, a trailer
};

// Returns the payload mode x-amz-content-sha256 names, or invalid_argument for another value.
[[nodiscard]] inline S3Result<PayloadMode> payload_mode(std::string_view value) {
  if (value == "UNSIGNED-PAYLOAD") return PayloadMode::unsigned_payload;
  if (value == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") return PayloadMode::streaming_signed;
  if (value == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
    return PayloadMode::streaming_signed_trailer;
  }
  if (value == "STREAMING-UNSIGNED-PAYLOAD-TRAILER") return PayloadMode::streaming_unsigned_trailer;
  if (is_signature(value)) return PayloadMode::sha256;
  return s3_error(s3errc::invalid_argument,
                  "x-amz-content-sha256 '" + std::string(value) +
                      "' is neither a SHA-256 in hex nor a payload mode S3 defines");
}

// A request as authentication sees it.
struct SignedRequest {
  std::string_view method;
  std::string_view raw_path;   // as received, still percent-encoded
  std::string_view raw_query;  // as received, without '?'
  std::span<const Header> headers;
  std::int64_t now;  // the server's Unix time
};

// What an authenticated request proved.
struct Authenticated {
  Credential credential;
  std::string amz_date;   // YYYYMMDDTHHMMSSZ, as signed
  std::string signature;  // the request's signature: the seed of a chunked body's chain
  SigningKey key;         // signs the chunks and trailer of a streaming body
  PayloadMode payload;
  std::string payload_sha256;  // the body's SHA-256 in hex when payload is sha256
  bool presigned = false;
};

// Returns the signing key of a credential, or nothing when its access key is unknown.
using KeyLookup = std::function<std::optional<SigningKey>(const Credential&)>;

namespace detail {

// Checks the signature of a request with its parts in hand.
[[nodiscard]] inline S3Result<Authenticated> check_signature(
    const SignedRequest& request, const KeyLookup& key_for, Credential credential,
    std::string_view amz_date, std::span<const std::string> signed_headers,
    std::string_view signature, std::string_view query, std::string_view payload_hash) {
  const auto time = parse_amz_date(amz_date);
  if (!time) return time.error();
  if (amz_date.substr(0, 8) != credential.date) {
    return s3_error(s3errc::signature_does_not_match,
                    "the credential's date " + credential.date + " is not the request's day");
  }
  const auto key = key_for(credential);
  if (!key) return s3_error(s3errc::invalid_access_key_id);
  const auto uri = canonical_uri(request.raw_path);
  if (!uri) return uri.error();
  const auto block = canonical_headers(request.headers, signed_headers);
  if (!block) return block.error();
  const std::string canonical = canonical_request(
      request.method, *uri, query, *block, join_signed_headers(signed_headers), payload_hash);
  const std::string expected = sign(*key, string_to_sign(amz_date, credential.scope(), canonical));
  if (!signatures_equal(expected, signature)) return s3_error(s3errc::signature_does_not_match);
  Authenticated out{std::move(credential),
                    std::string(amz_date),
                    std::string(signature),
                    *key,
                    PayloadMode::unsigned_payload,
                    {},
                    false};
  return out;
}

}  // namespace detail

// Authenticates a request signed with the Authorization header (x-amz-date and
// x-amz-content-sha256 required) or with a presigned URL's query (X-Amz-Algorithm and the
// rest). The errors are S3's: AccessDenied for an unsigned or expired request,
// InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed beyond 15 minutes.
[[nodiscard]] inline S3Result<Authenticated> authenticate(const SignedRequest& request,
                                                          const KeyLookup& key_for) {
  auto params = parse_query(request.raw_query);
  if (!params) return params.error();
  const auto param = [&](std::string_view name) -> std::optional<std::string_view> {
    for (const auto& p : *params) {
      if (p.name == name) return std::string_view(p.value);
    }
    return std::nullopt;
  };

  if (const auto authorization = find_header(request.headers, "authorization")) {
    auto header = parse_authorization(*authorization);
    if (!header) return header.error();
    const auto amz_date = find_header(request.headers, "x-amz-date");
    if (!amz_date) {
      return s3_error(s3errc::access_denied, "a signed request needs an x-amz-date header");
    }
    const auto content = find_header(request.headers, "x-amz-content-sha256");
    if (!content) {
      return s3_error(s3errc::invalid_request, "a signed request needs x-amz-content-sha256");
    }
    const auto mode = payload_mode(*content);
    if (!mode) return mode.error();
    const auto time = parse_amz_date(*amz_date);
    if (!time) return time.error();
    if (*time > request.now + max_clock_skew_seconds ||
        *time < request.now - max_clock_skew_seconds) {
      return s3_error(s3errc::request_time_too_skewed);
    }
    auto out = detail::check_signature(request, key_for, header->credential, *amz_date,
                                       header->signed_headers, header->signature,
                                       canonical_query(*params), *content);
    if (!out) return out.error();
    out->payload = *mode;
    if (*mode == PayloadMode::sha256) out->payload_sha256 = std::string(*content);
    return out;
  }

  const auto algorithm = param("X-Amz-Algorithm");
  if (!algorithm && param("AWSAccessKeyId") && param("Signature")) {
    return s3_error(s3errc::not_implemented,
                    "Signature Version 2 presigned URLs are not supported; presign with "
                    "Signature Version 4 (boto3: Config(signature_version='s3v4'))");
  }
  if (!algorithm) return s3_error(s3errc::access_denied, "the request is not signed");
  if (*algorithm != "AWS4-HMAC-SHA256") {
    return s3_error(s3errc::authorization_header_malformed,
                    "X-Amz-Algorithm must be AWS4-HMAC-SHA256");
  }
  const auto credential_text = param("X-Amz-Credential");
  const auto amz_date = param("X-Amz-Date");
  const auto expires_text = param("X-Amz-Expires");
  const auto signed_text = param("X-Amz-SignedHeaders");
  const auto signature = param("X-Amz-Signature");
  if (!credential_text || !amz_date || !expires_text || !signed_text || !signature) {
    return s3_error(s3errc::authorization_header_malformed,
                    "a presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, "
                    "X-Amz-SignedHeaders and X-Amz-Signature");
  }
  auto credential = parse_credential(*credential_text);
  if (!credential) return credential.error();
  auto names = parse_signed_headers(*signed_text);
  if (!names) return names.error();
  if (!is_signature(*signature)) {
    return s3_error(s3errc::authorization_header_malformed,
                    "X-Amz-Signature is not 64 lower-case hex digits");
  }
  if (!detail::all_digits(*expires_text) || expires_text->size() > 7) {
    return s3_error(s3errc::authorization_header_malformed,
                    "X-Amz-Expires is not a number of seconds");
  }
  const std::int64_t expires = std::stoll(std::string(*expires_text));
  if (expires < 1 || expires > max_presigned_expiry_seconds) {
    return s3_error(s3errc::authorization_header_malformed,
                    "X-Amz-Expires must be between 1 and 604800 seconds");
  }
  const auto time = parse_amz_date(*amz_date);
  if (!time) return time.error();
  if (*time > request.now + max_clock_skew_seconds) {
    return s3_error(s3errc::request_time_too_skewed, "the presigned URL is not valid yet");
  }
  if (request.now > *time + expires) {
    return s3_error(s3errc::access_denied, "Request has expired");
  }
  // A presigned request may carry x-amz-content-sha256 too; UNSIGNED-PAYLOAD otherwise.
  const std::string_view content =
      find_header(request.headers, "x-amz-content-sha256").value_or("UNSIGNED-PAYLOAD");
  const auto mode = payload_mode(content);
  if (!mode) return mode.error();
  if (*mode != PayloadMode::sha256 && *mode != PayloadMode::unsigned_payload) {
    return s3_error(s3errc::invalid_request, "a presigned URL cannot carry a streaming body");
  }
  auto out =
      detail::check_signature(request, key_for, std::move(*credential), *amz_date, *names,
                              *signature, canonical_query(*params, "X-Amz-Signature"), content);
  if (!out) return out.error();
  out->payload = *mode;
  if (*mode == PayloadMode::sha256) out->payload_sha256 = std::string(content);
  out->presigned = true;
  return out;
}

}  // namespace mkv
