// The canonical forms of SigV4: the canonical URI, query and headers of a request, the
// canonical request, and the strings to sign of a request, of each chunk of an aws-chunked body
// and of its trailer. Pure text in, text out (mkv/sigv4.h checks signatures with them).
#pragma once

#include "mkv/s3_error.h"
#include "mkv/sha256.h"

#include <boost/url/encode.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

namespace detail {

// Splits text at every sep.
[[nodiscard]] inline std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

// Returns text without the spaces and tabs around it (HTTP's optional whitespace).
[[nodiscard]] inline std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

[[nodiscard]] inline bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

[[nodiscard]] inline char lower(char c) {
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

[[nodiscard]] inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// Returns text percent-encoded as SigV4 wants it: everything but the unreserved characters
// (and '/' when keep_slash) as upper-case %XX.
[[nodiscard]] inline std::string aws_encode(std::string_view text, bool keep_slash) {
  if (keep_slash) return boost::urls::encode(text, boost::urls::unreserved_chars + '/');
  return boost::urls::encode(text, boost::urls::unreserved_chars);
}

// Returns the percent-decoded text, or nothing when an escape is malformed.
[[nodiscard]] inline std::optional<std::string> decode(std::string_view text) {
  const auto escaped = boost::urls::make_pct_string_view(text);
  if (!escaped) return std::nullopt;
  return escaped->decode();
}

}  // namespace detail

// Returns the canonical URI of a request's raw path: decoded once and encoded again, keeping
// only the unreserved characters and '/' (S3 does not normalise "." or "//"); invalid_request
// when an escape is malformed.
[[nodiscard]] inline S3Result<std::string> canonical_uri(std::string_view raw_path) {
  const auto decoded = detail::decode(raw_path);
  if (!decoded) {
    return s3_error(s3errc::invalid_request, "the request path has a malformed %-escape");
  }
  return detail::aws_encode(*decoded, true);
}

// One query parameter, decoded; value is empty for "name" and "name=".
struct QueryParam {
  std::string name;
  std::string value;
  friend auto operator<=>(const QueryParam&, const QueryParam&) = default;
};

// Returns the decoded parameters of a raw query string (without '?'), in order, or
// invalid_request when an escape is malformed.
[[nodiscard]] inline S3Result<std::vector<QueryParam>> parse_query(std::string_view raw_query) {
  std::vector<QueryParam> params;
  if (raw_query.empty()) return params;
  for (const auto pair : detail::split(raw_query, '&')) {
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = detail::decode(pair.substr(0, eq));
    auto value =
        detail::decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name || !value) {
      return s3_error(s3errc::invalid_request, "the query string has a malformed %-escape");
    }
    params.push_back({std::move(*name), std::move(*value)});
  }
  return params;
}

// Returns the canonical query string of params: each name and value encoded as SigV4 wants,
// "name=value" sorted by name then value and joined by '&'; a parameter named skip (presigned
// URLs skip X-Amz-Signature) is left out.
[[nodiscard]] inline std::string canonical_query(std::span<const QueryParam> params,
                                                 std::string_view skip = {}) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& p : params) {
    if (!skip.empty() && p.name == skip) continue;
    encoded.emplace_back(detail::aws_encode(p.name, false), detail::aws_encode(p.value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

// A request header as received.
struct Header {
  std::string_view name;
  std::string_view value;
};

// Returns the value of the first header named name (any case), or nothing.
[[nodiscard]] inline std::optional<std::string_view> find_header(std::span<const Header> headers,
                                                                 std::string_view name) {
  for (const auto& h : headers) {
    if (detail::iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

// Returns the canonical headers block: for each signed name in order, "name:value\n" where value
// is every value sent under that name joined by ',', each trimmed and with runs of spaces
// collapsed to one; signature_does_not_match when a signed header was not sent.
[[nodiscard]] inline S3Result<std::string> canonical_headers(
    std::span<const Header> headers, std::span<const std::string> signed_headers) {
  std::string out;
  for (const auto& name : signed_headers) {
    out += name;
    out += ':';
    bool found = false;
    for (const auto& h : headers) {
      if (!detail::iequals(h.name, name)) continue;
      if (found) out += ',';
      found = true;
      bool space = false;
      for (const char c : detail::trim_ows(h.value)) {
        if (c == ' ' || c == '\t') {
          space = true;
          continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
      }
    }
    if (!found) {
      return s3_error(s3errc::signature_does_not_match,
                      "the signed header '" + name + "' is not in the request");
    }
    out += '\n';
  }
  return out;
}

// Returns the names joined by ';', as the canonical request's SignedHeaders line.
[[nodiscard]] inline std::string join_signed_headers(std::span<const std::string> names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

// Returns the canonical request of its parts (the headers block ends in '\n' already).
[[nodiscard]] inline std::string canonical_request(std::string_view method, std::string_view uri,
                                                   std::string_view query,
                                                   std::string_view headers_block,
                                                   std::string_view signed_headers,
                                                   std::string_view payload_hash) {
  std::string out;
  for (const auto part : {method, uri, query, headers_block}) {
    out += part;
    out += '\n';
  }
  out += signed_headers;
  out += '\n';
  out += payload_hash;
  return out;
}

// Returns the string to sign of a request signed at amz_date (YYYYMMDDTHHMMSSZ) in scope.
[[nodiscard]] inline std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                                                std::string_view canonical) {
  return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + '\n' + std::string(scope) + '\n' +
         sha256_hex(canonical);
}

// Returns the string to sign of one chunk of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body: it
// chains to the previous chunk's signature (the request's own signature for the first chunk).
[[nodiscard]] inline std::string chunk_string_to_sign(std::string_view amz_date,
                                                      std::string_view scope,
                                                      std::string_view previous_signature,
                                                      std::string_view chunk_sha256) {
  return "AWS4-HMAC-SHA256-PAYLOAD\n" + std::string(amz_date) + '\n' + std::string(scope) + '\n' +
         std::string(previous_signature) + '\n' + std::string(empty_sha256) + '\n' +
         std::string(chunk_sha256);
}

// Returns the string to sign of the trailer of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body:
// trailer_sha256 is the SHA-256 of the trailer lines other than the signature's, each as
// "name:value\n" with the name in lower case and the value trimmed, sorted by name
// (mkv/aws_chunked.h makes them).
[[nodiscard]] inline std::string trailer_string_to_sign(std::string_view amz_date,
                                                        std::string_view scope,
                                                        std::string_view previous_signature,
                                                        std::string_view trailer_sha256) {
  return "AWS4-HMAC-SHA256-TRAILER\n" + std::string(amz_date) + '\n' + std::string(scope) + '\n' +
         std::string(previous_signature) + '\n' + std::string(trailer_sha256);
}

}  // namespace mkv
