// The decoder of aws-chunked request bodies (Content-Encoding: aws-chunked), the streaming payload
// modes of SigV4: it takes the body in pieces of any size, hands back the object's bytes as views
// into those pieces, verifies the chunk and trailer signatures of a signed body, and keeps the
// trailer (x-amz-checksum-* and the like). It never holds chunk data, only one header or trailer
// line at a time (at most max_line_bytes) and the trailer itself.
//
// The body, as S3's documents and the SDKs write it:
//   chunk   = hex-size [";chunk-signature=" 64 hex digits] CRLF data CRLF
//   last    = "0" [";chunk-signature=" 64 hex digits] CRLF
//   body    = *chunk last *(trailer-line CRLF) CRLF
//   trailer-line = name ":" value            (the signed-trailer mode ends with
//                                             "x-amz-trailer-signature:" 64 hex digits)
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD signs every chunk and has no trailer;
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER signs every chunk and the trailer;
// STREAMING-UNSIGNED-PAYLOAD-TRAILER signs nothing and may have a trailer.
//
// Each chunk signature chains to the one before it (the request's own signature for the first).
// The trailer signature chains to the 0-size chunk's and signs the SHA-256 of the trailer lines
// other than x-amz-trailer-signature in canonical form: lower-case name, ':', the value trimmed of
// spaces and tabs, '\n', sorted by name. For the lines clients send (one lower-case
// x-amz-checksum-* line, no spaces) that is the lines as sent with LF for CRLF; it reproduces
// AWS's example in sigv4-streaming-trailers.html (signature d81f82fc...) and is how the SDKs
// that sort their trailers (aws-sdk-net) sign.
//
// A piece of data is handed back before the chunk it belongs to is verified (nothing is held
// back), so a caller must treat the body as unverified until finish() succeeds.
#pragma once

#include "mkv/s3_error.h"
#include "mkv/sha256.h"
#include "mkv/sigv4.h"
#include "mkv/sigv4_canonical.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

// What a signed aws-chunked body is verified with: the request's signing key, time, scope and
// signature (the seed of the chain).
struct ChunkSigning {
  SigningKey key{};
  std::string amz_date;        // YYYYMMDDTHHMMSSZ, as the request was signed
  std::string scope;           // date/region/service/aws4_request
  std::string seed_signature;  // the request's signature
};

// Returns the chunk signing of an authenticated request.
[[nodiscard]] inline ChunkSigning chunk_signing(const Authenticated& request) {
  return {request.key, request.amz_date, request.credential.scope(), request.signature};
}

// Returns the value of x-amz-decoded-content-length (decimal digits), or invalid_argument.
[[nodiscard]] inline S3Result<std::uint64_t> parse_decoded_content_length(std::string_view value) {
  value = detail::trim_ows(value);
  if (!detail::all_digits(value) || value.size() > 19) {
    return s3_error(s3errc::invalid_argument, "x-amz-decoded-content-length '" +
                                                  std::string(value.substr(0, 40)) +
                                                  "' is not a number of bytes");
  }
  std::uint64_t n = 0;
  for (const char c : value) n = n * 10 + std::uint64_t(c - '0');
  return n;
}

// The trailer of a body: lower-case name -> value (trimmed), without x-amz-trailer-signature.
using Trailers = std::map<std::string, std::string, std::less<>>;

// The decoded data one feed() found: views into the bytes it was given, in order.
using DecodedPieces = std::vector<std::span<const char>>;

// Decodes one aws-chunked body. After the first error every call returns that error again.
class AwsChunkedDecoder {
 public:
  // The longest chunk header or trailer line, without its CRLF.
  static constexpr std::size_t max_line_bytes = 4096;
  // The most trailer lines, besides x-amz-trailer-signature.
  static constexpr std::size_t max_trailers = 16;

  // Decodes a body sent in mode, one of the three streaming modes (any other mode makes every
  // call fail with invalid_request). signing is used by the signed modes only. decoded_length
  // is x-amz-decoded-content-length when the request has one: the data must be that long.
  explicit AwsChunkedDecoder(PayloadMode mode, ChunkSigning signing = {},
                             std::optional<std::uint64_t> decoded_length = std::nullopt)
      : mode_(mode),
        signing_(std::move(signing)),
        decoded_length_(decoded_length),
        previous_signature_(signing_.seed_signature) {
    if (mode != PayloadMode::streaming_signed && mode != PayloadMode::streaming_signed_trailer &&
        mode != PayloadMode::streaming_unsigned_trailer) {
      fail(s3_error(s3errc::invalid_request,
                    "an aws-chunked body needs a STREAMING-* x-amz-content-sha256"));
    }
  }

  // Decodes the next bytes of the body. Returns the decoded data they hold (views into in), or
  // the error that ends the body: invalid_request for malformed framing, signature_does_not_match
  // for a chunk or trailer signature that is not the one the key makes, incomplete_body when the
  // last chunk comes before x-amz-decoded-content-length bytes did.
  [[nodiscard]] S3Result<DecodedPieces> feed(std::span<const char> in) {
    if (error_) return *error_;
    DecodedPieces pieces;
    while (!in.empty()) {
      switch (state_) {
        case State::chunk_header:
        case State::trailer: {
          const auto newline = std::find(in.begin(), in.end(), '\n');
          const auto n = static_cast<std::size_t>(newline - in.begin());
          // line_ may hold the CR that ends a line until its LF arrives.
          if (line_.size() + n > max_line_bytes + 1) {
            return fail(malformed(
                std::string(state_ == State::trailer ? "a trailer line" : "a chunk header") +
                " is longer than " + std::to_string(max_line_bytes) + " bytes"));
          }
          line_.append(in.data(), n);
          if (newline == in.end()) return pieces;
          in = in.subspan(n + 1);
          if (line_.empty() || line_.back() != '\r') {
            return fail(malformed("a line ends in LF without CR: '" + shown(line_) + "'"));
          }
          line_.pop_back();
          auto ended = state_ == State::chunk_header ? end_chunk_header() : end_trailer_line();
          line_.clear();
          if (!ended) return fail(ended.error());
          break;
        }
        case State::data: {
          const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
          const auto piece = in.first(n);
          if (is_signed()) chunk_hash_.update(piece);
          pieces.push_back(piece);
          decoded_ += n;
          remaining_ -= n;
          in = in.subspan(n);
          if (remaining_ == 0) {
            if (is_signed()) {
              auto verified = verify_chunk();
              if (!verified) return fail(verified.error());
            }
            state_ = State::data_cr;
          }
          break;
        }
        case State::data_cr:
        case State::data_lf: {
          const char expected = state_ == State::data_cr ? '\r' : '\n';
          if (in.front() != expected) {
            return fail(malformed("the data of chunk " + std::to_string(chunks_) + " (" +
                                  std::to_string(chunk_size_) + " bytes) is not followed by CRLF"));
          }
          in = in.subspan(1);
          state_ = state_ == State::data_cr ? State::data_lf : State::chunk_header;
          break;
        }
        case State::done: return fail(malformed("bytes follow the empty line that ends the body"));
        case State::failed: return *error_;
      }
    }
    return pieces;
  }

  // Says that the body has ended: returns success when it was whole, incomplete_body saying
  // where it stopped when it was not, or the error that ended it before.
  [[nodiscard]] S3Result<void> finish() {
    if (error_) return *error_;
    const auto incomplete = [&](std::string why) {
      return fail(s3_error(s3errc::incomplete_body, "the aws-chunked body ended " + why));
    };
    switch (state_) {
      case State::chunk_header:
        if (chunks_ == 0 && line_.empty()) return incomplete("before its first chunk");
        return incomplete("before its 0-size last chunk (after " + std::to_string(decoded_) +
                          " bytes of data)");
      case State::data:
        return incomplete("inside chunk " + std::to_string(chunks_) + ", " +
                          std::to_string(chunk_size_ - remaining_) + " of " +
                          std::to_string(chunk_size_) + " bytes in");
      case State::data_cr:
      case State::data_lf:
        return incomplete("before the CRLF after chunk " + std::to_string(chunks_));
      case State::trailer: return incomplete("before the empty line that ends the trailer");
      case State::done: return {};
      case State::failed: return *error_;
    }
    return {};
  }

  // Returns whether the whole body has been decoded and verified.
  [[nodiscard]] bool finished() const { return state_ == State::done; }

  // Returns how many bytes of data have been decoded so far (after an error, including those of
  // the feed() that failed, which it did not hand back).
  [[nodiscard]] std::uint64_t decoded_bytes() const { return decoded_; }

  // Returns the trailer lines read so far (all of them once finished()).
  [[nodiscard]] const Trailers& trailers() const { return trailers_; }

 private:
  enum class State { chunk_header, data, data_cr, data_lf, trailer, done, failed };

  [[nodiscard]] bool is_signed() const { return mode_ != PayloadMode::streaming_unsigned_trailer; }

  // Returns the first 64 bytes of text, to quote in a message.
  [[nodiscard]] static std::string shown(std::string_view text) {
    return text.size() <= 64 ? std::string(text) : std::string(text.substr(0, 64)) + "...";
  }

  [[nodiscard]] static S3Error malformed(std::string why) {
    return s3_error(s3errc::invalid_request, "malformed aws-chunked body: " + why);
  }

  S3Error fail(S3Error error) {
    state_ = State::failed;
    error_ = error;
    return error;
  }

  // Reads the chunk header in line_: the size, and the signature when the mode signs chunks.
  [[nodiscard]] S3Result<void> end_chunk_header() {
    const std::string_view line = line_;
    const auto semicolon = line.find(';');
    const auto hex = line.substr(0, semicolon);
    const bool is_hex =
        !hex.empty() && hex.size() <= 16 && std::all_of(hex.begin(), hex.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        });
    if (!is_hex) {
      return malformed("the chunk header '" + shown(line) +
                       "' does not start with a size in hexadecimal");
    }
    std::uint64_t size = 0;
    for (const char c : hex) {
      const int digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
      size = size * 16 + std::uint64_t(digit);
    }
    const auto extension =
        semicolon == std::string_view::npos ? std::string_view() : line.substr(semicolon + 1);
    constexpr std::string_view tag = "chunk-signature=";
    if (is_signed()) {
      if (!extension.starts_with(tag) || !is_signature(extension.substr(tag.size()))) {
        return malformed("the chunk header '" + shown(line) +
                         "' has no ;chunk-signature=<64 lower-case hex digits>");
      }
      claimed_signature_ = std::string(extension.substr(tag.size()));
    } else if (semicolon != std::string_view::npos) {
      return malformed("the chunk header '" + shown(line) +
                       "' of an unsigned body has an extension");
    }
    ++chunks_;
    const std::uint64_t limit = decoded_length_.value_or(std::numeric_limits<std::uint64_t>::max());
    if (size > limit - decoded_) {
      return malformed("chunk " + std::to_string(chunks_) + " goes past " +
                       (decoded_length_ ? "x-amz-decoded-content-length, " +
                                              std::to_string(*decoded_length_) + " bytes"
                                        : std::string("2^64 bytes")));
    }
    chunk_size_ = size;
    remaining_ = size;
    if (size > 0) {
      state_ = State::data;
      return {};
    }
    // The last chunk: it has no data, and its signature is that of the empty string.
    if (is_signed()) {
      auto verified = verify_chunk();
      if (!verified) return verified.error();
    }
    if (decoded_length_ && decoded_ < *decoded_length_) {
      return s3_error(s3errc::incomplete_body,
                      "the aws-chunked body holds " + std::to_string(decoded_) +
                          " bytes of data, x-amz-decoded-content-length says " +
                          std::to_string(*decoded_length_));
    }
    state_ = State::trailer;
    return {};
  }

  // Checks the claimed signature of the chunk whose data chunk_hash_ has hashed.
  [[nodiscard]] S3Result<void> verify_chunk() {
    const auto text = chunk_string_to_sign(signing_.amz_date, signing_.scope, previous_signature_,
                                           lower_hex(chunk_hash_.finish()));
    auto expected = sign(signing_.key, text);
    if (!signatures_equal(expected, claimed_signature_)) {
      return s3_error(s3errc::signature_does_not_match,
                      "the signature of chunk " + std::to_string(chunks_) + " (" +
                          std::to_string(chunk_size_) +
                          " bytes) is not the one the request's key makes");
    }
    previous_signature_ = std::move(expected);
    return {};
  }

  // Reads the trailer line in line_; the empty line ends the body.
  [[nodiscard]] S3Result<void> end_trailer_line() {
    const std::string_view line = line_;
    if (line.empty()) {
      if (mode_ == PayloadMode::streaming_signed_trailer && !trailer_signed_) {
        return s3_error(s3errc::signature_does_not_match,
                        "the trailer of a signed-trailer body has no x-amz-trailer-signature");
      }
      state_ = State::done;
      return {};
    }
    if (mode_ == PayloadMode::streaming_signed) {
      return malformed("a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body has no trailer, but '" +
                       shown(line) + "' follows its last chunk");
    }
    if (trailer_signed_) {
      return malformed("the trailer line '" + shown(line) +
                       "' follows x-amz-trailer-signature, which must be the last");
    }
    const auto colon = line.find(':');
    const auto name = line.substr(0, colon);
    const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return c > ' ' && c < 0x7f && c != ':' && c != '(' && c != ')' && c != ',' && c != ';' &&
             c != '"' && c != '/' && c != '[' && c != ']' && c != '{' && c != '}' && c != '=' &&
             c != '<' && c != '>' && c != '?' && c != '@' && c != '\\';
    });
    if (colon == std::string_view::npos || !token) {
      return malformed("the trailer line '" + shown(line) + "' is not name:value");
    }
    const auto value = detail::trim_ows(line.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(),
                    [](char c) { return (c >= 0 && c < ' ' && c != '\t') || c == 0x7f; })) {
      return malformed("the value of the trailer '" + shown(name) + "' has a control character");
    }
    std::string lower(name);
    for (char& c : lower) c = detail::lower(c);
    if (lower == "x-amz-trailer-signature") {
      if (mode_ != PayloadMode::streaming_signed_trailer) {
        return malformed("the trailer of an unsigned body has an x-amz-trailer-signature");
      }
      if (!is_signature(value)) {
        return malformed("x-amz-trailer-signature is not 64 lower-case hex digits");
      }
      trailer_signed_ = true;
      return verify_trailer(value);
    }
    if (trailers_.size() == max_trailers) {
      return malformed("the trailer has more than " + std::to_string(max_trailers) + " lines");
    }
    if (!trailers_.emplace(std::move(lower), std::string(value)).second) {
      return malformed("the trailer '" + shown(name) + "' is sent twice");
    }
    return {};
  }

  // Checks the trailer signature against the trailer lines read before it.
  [[nodiscard]] S3Result<void> verify_trailer(std::string_view claimed) {
    std::string canonical;
    for (const auto& [name, value] : trailers_) canonical += name + ':' + value + '\n';
    const auto text = trailer_string_to_sign(signing_.amz_date, signing_.scope, previous_signature_,
                                             sha256_hex(canonical));
    if (!signatures_equal(sign(signing_.key, text), claimed)) {
      return s3_error(s3errc::signature_does_not_match,
                      "x-amz-trailer-signature is not the one the request's key makes");
    }
    return {};
  }

  PayloadMode mode_;
  ChunkSigning signing_;
  std::optional<std::uint64_t> decoded_length_;
  State state_ = State::chunk_header;
  std::optional<S3Error> error_;
  std::string line_;                // the header or trailer line read so far
  std::uint64_t chunks_ = 0;        // chunk headers read, the current one included
  std::uint64_t chunk_size_ = 0;    // the size of the current chunk
  std::uint64_t remaining_ = 0;     // its bytes still to come
  std::uint64_t decoded_ = 0;       // data bytes handed back
  Sha256Stream chunk_hash_;         // the current chunk's data, in the signed modes
  std::string claimed_signature_;   // the current chunk's signature
  std::string previous_signature_;  // the last verified signature (the seed at first)
  bool trailer_signed_ = false;
  Trailers trailers_;
};

}  // namespace mkv
