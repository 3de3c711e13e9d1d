// Byte ranges of a GET (RFC 9110 14): which part of an object a Range header asks for, and the
// Content-Range that answers it. One range per request, as S3 serves: a header naming several,
// or one that is not a byte range at all, is ignored and the whole object sent; a well-formed
// range that starts past the end is unsatisfiable (416 InvalidRange).
#pragma once

#include "mkv/s3_error.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mkv {

// The bytes first..last of an object, both included.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;

  [[nodiscard]] std::uint64_t length() const { return last - first + 1; }
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

namespace detail {

// Returns the decimal number text is, or nothing (empty, a non-digit, or over 19 digits).
[[nodiscard]] inline std::optional<std::uint64_t> range_number(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace detail

// Returns the range of an object of size bytes that header (a Range value, if sent) selects:
// nothing for the whole object, or invalid_range when the range cannot be satisfied.
[[nodiscard]] inline S3Result<std::optional<ByteRange>> resolve_range(
    std::optional<std::string_view> header, std::uint64_t size) {
  if (!header) return std::optional<ByteRange>();
  std::string_view spec = *header;
  while (!spec.empty() && (spec.front() == ' ' || spec.front() == '\t')) spec.remove_prefix(1);
  while (!spec.empty() && (spec.back() == ' ' || spec.back() == '\t')) spec.remove_suffix(1);
  constexpr std::string_view unit = "bytes=";
  if (!spec.starts_with(unit)) return std::optional<ByteRange>();
  spec.remove_prefix(unit.size());
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) {
    return std::optional<ByteRange>();
  }
  const auto unsatisfiable = [&] {
    return s3_error(s3errc::invalid_range, "the range " + std::string(*header) +
                                               " is outside the object of " + std::to_string(size) +
                                               " bytes");
  };
  const std::string_view from = spec.substr(0, dash), to = spec.substr(dash + 1);
  if (from.empty()) {  // "-n": the last n bytes
    const auto n = detail::range_number(to);
    if (!n) return std::optional<ByteRange>();
    if (*n == 0 || size == 0) return unsatisfiable();
    const std::uint64_t length = std::min(*n, size);
    return std::optional<ByteRange>(ByteRange{size - length, size - 1});
  }
  const auto first = detail::range_number(from);
  if (!first) return std::optional<ByteRange>();
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!to.empty()) {
    const auto end = detail::range_number(to);
    if (!end || *end < *first) return std::optional<ByteRange>();
    last = std::min(*end, last);
  }
  if (*first >= size) return unsatisfiable();
  return std::optional<ByteRange>(ByteRange{*first, last});
}

// Returns the Content-Range of a 206 that sends range of an object of size bytes.
[[nodiscard]] inline std::string content_range(const ByteRange& range, std::uint64_t size) {
  return "bytes " + std::to_string(range.first) + '-' + std::to_string(range.last) + '/' +
         std::to_string(size);
}

// Returns the Content-Range of a 416 for an object of size bytes.
[[nodiscard]] inline std::string unsatisfied_range(std::uint64_t size) {
  return "bytes */" + std::to_string(size);
}

}  // namespace mkv
