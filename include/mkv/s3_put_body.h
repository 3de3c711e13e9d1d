// How a PutObject's body is read and checked, decided from its payload mode and headers before a
// byte of it is read: whether it is aws-chunked, how long the object is, and which x-amz-checksum-*
// it must match (claimed by a header, or by the trailer that x-amz-trailer announces); and, once
// the body has ended, whether its trailer and checksum are what the plan expects. Also what an
// object keeps of Content-Encoding (aws-chunked is framing, not the object's encoding).
//
// As S3 takes them (docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html,
// sigv4-streaming-trailers.html, userguide/checking-object-integrity.html): a STREAMING-* payload
// is aws-chunked and needs x-amz-decoded-content-length, the object's length; a request claims
// at most one checksum, in a header or in the trailer, and only the trailer modes have a trailer;
// x-amz-sdk-checksum-algorithm, when sent, names the algorithm of that checksum.
#pragma once

#include "mkv/aws_chunked.h"
#include "mkv/object_meta.h"
#include "mkv/s3_checksum.h"
#include "mkv/s3_error.h"
#include "mkv/sigv4.h"
#include "mkv/sigv4_canonical.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace mkv {

// Where a PutObject's checksum is claimed.
enum class ChecksumSource {
  header,   // an x-amz-checksum-<algorithm> request header: known before the body
  trailer,  // the trailer line x-amz-trailer names: known once the body has ended
};

// The checksum a PutObject's object must have.
struct PutChecksum {
  ChecksumAlgorithm algorithm;
  ChecksumSource source;
  std::string claimed;  // the header's value; empty for a trailer (it comes at the end)
  friend bool operator==(const PutChecksum&, const PutChecksum&) = default;
};

// How a PutObject's body is read.
struct PutBodyPlan {
  bool aws_chunked = false;  // the body is aws-chunked (a STREAMING-* payload mode)
  std::uint64_t length = 0;  // the object's length: x-amz-decoded-content-length or Content-Length
  std::optional<PutChecksum> checksum;  // computed over the object's bytes when claimed
  friend bool operator==(const PutBodyPlan&, const PutBodyPlan&) = default;
};

// Returns whether a payload mode sends the body aws-chunked.
[[nodiscard]] inline bool is_streaming(PayloadMode mode) {
  switch (mode) {
    case PayloadMode::sha256:
    case PayloadMode::unsigned_payload: return false;
    case PayloadMode::streaming_signed:
    case PayloadMode::streaming_signed_trailer:
    case PayloadMode::streaming_unsigned_trailer: return true;
  }
  return false;  // unreachable: every mode is handled above
}

// Returns whether a payload mode may end its body with a trailer.
[[nodiscard]] inline bool has_trailer(PayloadMode mode) {
  return mode == PayloadMode::streaming_signed_trailer ||
         mode == PayloadMode::streaming_unsigned_trailer;
}

// Returns whether a Content-Encoding value lists aws-chunked (any case).
[[nodiscard]] inline bool lists_aws_chunked(std::string_view value) {
  for (const auto part : detail::split(value, ',')) {
    if (detail::iequals(detail::trim_ows(part), "aws-chunked")) return true;
  }
  return false;
}

// Returns the Content-Encoding an object keeps of the header's value: the listed codings other
// than aws-chunked ("aws-chunked, gzip" keeps "gzip"), or nothing when none is left.
[[nodiscard]] inline std::optional<std::string> stored_content_encoding(std::string_view value) {
  std::string kept;
  for (const auto part : detail::split(value, ',')) {
    const auto coding = detail::trim_ows(part);
    if (coding.empty() || detail::iequals(coding, "aws-chunked")) continue;
    if (!kept.empty()) kept += ',';
    kept += coding;
  }
  if (kept.empty()) return std::nullopt;
  return kept;
}

// Returns the headers an object keeps (stored_headers_of()) with aws-chunked taken out of their
// Content-Encoding, which is dropped when nothing else is left in it (one without aws-chunked is
// kept as sent).
[[nodiscard]] inline StoredHeaders without_aws_chunked(StoredHeaders headers) {
  const auto at = std::find_if(headers.begin(), headers.end(),
                               [](const auto& h) { return h.first == "content-encoding"; });
  if (at == headers.end() || !lists_aws_chunked(at->second)) return headers;
  if (auto kept = stored_content_encoding(at->second)) {
    at->second = std::move(*kept);
  } else {
    headers.erase(at);
  }
  return headers;
}

// Returns how to read a PutObject's body sent in mode with headers; content_length is the
// request's Content-Length (nothing when it has none and a body follows). Errors:
// missing_content_length without Content-Length, or for aws-chunked without
// x-amz-decoded-content-length; invalid_argument for a value that cannot be read (and the errors of
// claimed_checksum() and checksum_algorithm_of_header()); invalid_request for headers that
// contradict each other or the payload mode.
[[nodiscard]] inline S3Result<PutBodyPlan> plan_put_body(
    PayloadMode mode, std::span<const Header> headers,
    std::optional<std::uint64_t> content_length) {
  if (!content_length) return s3_error(s3errc::missing_content_length);
  PutBodyPlan plan;
  plan.aws_chunked = is_streaming(mode);
  if (plan.aws_chunked) {
    const auto decoded = find_header(headers, "x-amz-decoded-content-length");
    if (!decoded) {
      return s3_error(
          s3errc::missing_content_length,
          "an aws-chunked body needs x-amz-decoded-content-length, the object's length");
    }
    auto length = parse_decoded_content_length(*decoded);
    if (!length) return length.error();
    plan.length = *length;
  } else {
    const auto encoding = find_header(headers, "content-encoding");
    if (encoding && lists_aws_chunked(*encoding)) {
      return s3_error(s3errc::invalid_request,
                      "Content-Encoding says aws-chunked, but x-amz-content-sha256 is not a "
                      "STREAMING-* payload mode");
    }
    plan.length = *content_length;
  }

  auto in_header = claimed_checksum(headers);
  if (!in_header) return in_header.error();
  if (*in_header) {
    auto value = parse_checksum_value((*in_header)->algorithm, (*in_header)->value);
    if (!value) return value.error();
    plan.checksum = PutChecksum{(*in_header)->algorithm, ChecksumSource::header,
                                std::string((*in_header)->value)};
  }
  if (const auto trailer = find_header(headers, "x-amz-trailer")) {
    if (!has_trailer(mode)) {
      return s3_error(s3errc::invalid_request,
                      "x-amz-trailer needs a STREAMING-*-TRAILER x-amz-content-sha256");
    }
    auto algorithm = checksum_algorithm_of_header(detail::trim_ows(*trailer));
    if (!algorithm) return algorithm.error();
    if (plan.checksum) {
      return s3_error(s3errc::invalid_request,
                      "a request may claim one checksum: an x-amz-checksum-* header or the "
                      "trailer x-amz-trailer names, not both");
    }
    plan.checksum = PutChecksum{*algorithm, ChecksumSource::trailer, {}};
  }
  if (const auto sdk = find_header(headers, "x-amz-sdk-checksum-algorithm")) {
    auto algorithm = parse_checksum_algorithm(detail::trim_ows(*sdk));
    if (!algorithm) return algorithm.error();
    if (!plan.checksum) {
      return s3_error(s3errc::invalid_request,
                      "x-amz-sdk-checksum-algorithm specified, but no corresponding "
                      "x-amz-checksum-* or x-amz-trailer headers were found");
    }
    if (*algorithm != plan.checksum->algorithm) {
      return s3_error(s3errc::invalid_request,
                      "x-amz-sdk-checksum-algorithm says " +
                          std::string(checksum_algorithm_name(*algorithm)) +
                          ", but the checksum sent is " +
                          std::string(checksum_header_name(plan.checksum->algorithm)));
    }
  }
  return plan;
}

// Returns success when a body that has ended is what its plan expects: its trailer holds the
// checksum x-amz-trailer announced and nothing else (invalid_request otherwise), and computed,
// the object's checksum in base64 (empty when the plan has none), is the claimed one
// (check_checksum(): bad_digest, or invalid_argument for a malformed claim).
[[nodiscard]] inline S3Result<void> check_put_body(const PutBodyPlan& plan,
                                                   const Trailers& trailers,
                                                   std::string_view computed) {
  const bool in_trailer = plan.checksum && plan.checksum->source == ChecksumSource::trailer;
  const std::string_view announced =
      in_trailer ? checksum_header_name(plan.checksum->algorithm) : std::string_view();
  for (const auto& [name, value] : trailers) {
    if (name != announced) {
      return s3_error(s3errc::invalid_request,
                      "the trailer '" + name + "' was not announced in x-amz-trailer");
    }
  }
  if (!plan.checksum) return {};
  std::string_view claimed = plan.checksum->claimed;
  if (in_trailer) {
    const auto found = trailers.find(announced);
    if (found == trailers.end()) {
      return s3_error(s3errc::invalid_request, "x-amz-trailer announced " + std::string(announced) +
                                                   ", but the body's trailer does not carry it");
    }
    claimed = found->second;
  }
  return check_checksum(plan.checksum->algorithm, claimed, computed);
}

}  // namespace mkv
