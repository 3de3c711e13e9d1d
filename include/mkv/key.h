// Keys: turning a request path into a key, checking that a key is safe to store as a path on
// a volume, and encoding a key back into a URL path.
#pragma once

#include "mkv/error.h"

#include <boost/url/encode.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

inline constexpr std::size_t max_key_bytes = 1024;
inline constexpr std::size_t max_segment_bytes = 255;

// The directory mkv keeps for itself at the root of each volume (staged overwrites live under
// it). Keys cannot reach it: no key segment starts with '.'.
inline constexpr std::string_view reserved_segment = ".mkv";

namespace detail {

// Returns the length of the UTF-8 sequence starting at s[i], or 0 if it is not well formed
// (overlong forms, surrogates and code points above U+10FFFF are not well formed).
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t j) { return static_cast<unsigned char>(s[j]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t j = 2; j < n; ++j) {
    if (byte(i + j) < 0x80 || byte(i + j) > 0xBF) return 0;
  }
  return n;
}

}  // namespace detail

// Returns s with every %XX escape decoded ('+' stays '+'), or nullopt if an escape is
// malformed. Any other byte is taken as it is.
[[nodiscard]] inline std::optional<std::string> percent_decode(std::string_view s) {
  const auto escaped = boost::urls::make_pct_string_view(s);
  if (!escaped) return std::nullopt;
  return escaped->decode();
}

// Returns why key cannot be stored, or nullopt if it is acceptable. An acceptable key is
// 1..1024 bytes of well-formed UTF-8 without control characters, made of '/'-separated
// segments of 1..255 bytes that do not start with '.'. Such a key maps to a path that stays
// inside a volume's root ("." and ".." are refused) and that nginx's autoindex lists, so
// rebuild can always find it (autoindex hides names starting with '.').
[[nodiscard]] inline std::optional<std::string> key_problem(std::string_view key) {
  if (key.empty()) return "empty key";
  if (key.size() > max_key_bytes) {
    return "key is longer than " + std::to_string(max_key_bytes) + " bytes";
  }
  for (std::size_t i = 0; i < key.size();) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7F) return "control character in key";
    const std::size_t n = detail::utf8_sequence_length(key, i);
    if (n == 0) return "key is not valid UTF-8";
    i += n;
  }
  if (key.back() == '/') return "trailing slash";
  std::size_t begin = 0;
  while (begin <= key.size()) {
    std::size_t end = key.find('/', begin);
    if (end == std::string_view::npos) end = key.size();
    const std::string_view segment = key.substr(begin, end - begin);
    if (segment.empty()) return "empty path segment";
    if (segment == "." || segment == "..") return "dot segment";
    if (segment.front() == '.') return "path segment starts with '.'";
    if (segment.size() > max_segment_bytes) {
      return "path segment is longer than " + std::to_string(max_segment_bytes) + " bytes";
    }
    begin = end + 1;
  }
  return std::nullopt;
}

// Returns the key named by a request path (the target up to '?', starting with '/'):
// the path without its leading '/', percent-decoded and checked by key_problem().
[[nodiscard]] inline Result<std::string> decode_key(std::string_view path) {
  if (path.empty() || path.front() != '/') return Error::invalid_key("path must start with /");
  auto key = percent_decode(path.substr(1));
  if (!key) return Error::invalid_key("malformed percent-escape");
  if (auto problem = key_problem(*key)) return Error::invalid_key(std::move(*problem));
  return std::move(*key);
}

// Returns key as a URL path (without a leading '/'): every byte but unreserved characters
// (A-Z a-z 0-9 - . _ ~) and '/' becomes %XX with upper-case hex digits.
[[nodiscard]] inline std::string encode_key(std::string_view key) {
  return boost::urls::encode(key, boost::urls::unreserved_chars + '/');
}

// Returns the keys that would be directories above key on a volume: "a" and "a/b" for
// "a/b/c". Key-as-path means none of them may exist as a key while key does.
[[nodiscard]] inline std::vector<std::string_view> parent_keys(std::string_view key) {
  std::vector<std::string_view> parents;
  for (std::size_t slash = key.find('/'); slash != std::string_view::npos;
       slash = key.find('/', slash + 1)) {
    parents.push_back(key.substr(0, slash));
  }
  return parents;
}

// Returns the prefix every key below key starts with ("a/" for "a"). No key with that prefix
// may exist while key does.
[[nodiscard]] inline std::string child_prefix(std::string_view key) {
  std::string prefix(key);
  prefix.push_back('/');
  return prefix;
}

}  // namespace mkv
