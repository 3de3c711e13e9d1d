// The percent-decoding, key encoding, list query and volume URL parsing mkv used before it used
// Boost.URL, kept only so that fuzz/url_diff_fuzz.cpp can compare old and new behaviour.
#pragma once

#include "mkv/error.h"
#include "mkv/key.h"
#include "mkv/list_query.h"
#include "mkv/volume.h"

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace mkv::before_boost_url {

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Returns s with every %XX escape decoded ('+' stays '+'), or nullopt if an escape is
// malformed.
[[nodiscard]] inline std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
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
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size() + key.size() / 2);
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || c == '/';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0x0F]);
    }
  }
  return out;
}

// Returns s with %XX escapes decoded and '+' read as a space (HTML form encoding), or nullopt
// if an escape is malformed.
[[nodiscard]] inline std::optional<std::string> query_decode(std::string_view s) {
  std::string plus_as_space(s);
  for (char& c : plus_as_space) {
    if (c == '+') c = ' ';
  }
  return percent_decode(plus_as_space);
}

// Returns the list request of a query string (the target after '?', possibly empty), or
// invalid_query naming the problem: an unknown or repeated parameter, a malformed escape,
// a control byte, or a limit that is not a whole number in 1..max_list_limit.
[[nodiscard]] inline Result<ListQuery> parse_list_query(std::string_view query) {
  ListQuery q;
  bool seen_prefix = false, seen_start = false, seen_limit = false;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    auto value = query_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!value) return Error::invalid_query("malformed percent-escape in " + std::string(name));
    for (const char c : *value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
        return Error::invalid_query("control character in " + std::string(name));
      }
    }
    const auto once = [&](bool& seen) -> std::optional<Error> {
      if (seen) return Error::invalid_query("parameter " + std::string(name) + " given twice");
      seen = true;
      return std::nullopt;
    };
    if (name == "prefix") {
      if (auto e = once(seen_prefix)) return *e;
      q.prefix = std::move(*value);
    } else if (name == "start") {
      if (auto e = once(seen_start)) return *e;
      q.start = std::move(*value);
    } else if (name == "limit") {
      if (auto e = once(seen_limit)) return *e;
      std::size_t limit = 0;
      const char* first = value->data();
      const char* last = first + value->size();
      const auto [end, ec] = std::from_chars(first, last, limit);
      if (value->empty() || ec != std::errc{} || end != last || limit < 1 || limit > max_list_limit) {
        return Error::invalid_query("limit must be a whole number from 1 to " +
                                    std::to_string(max_list_limit));
      }
      q.limit = limit;
    } else {
      return Error::invalid_query("unknown parameter " + std::string(name));
    }
  }
  return q;
}

// Returns the Volume described by text, or invalid_query with the reason it is not an
// http:// URL with a host, an optional numeric port and an optional path (no query, no
// fragment, no user info).
[[nodiscard]] inline Result<Volume> parse_volume_url(std::string_view text) {
  const auto fail = [&](std::string why) {
    return Error::invalid_query("volume " + std::string(text) + ": " + why);
  };
  constexpr std::string_view scheme = "http://";
  if (text.substr(0, scheme.size()) != scheme) return fail("only http:// volumes are supported");
  std::string_view rest = text.substr(scheme.size());
  if (rest.find_first_of("?#@ ") != std::string_view::npos) {
    return fail("query, fragment, user info and spaces are not allowed");
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);

  Volume v;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 literal");
    v.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("junk after IPv6 literal");
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    v.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (v.host.empty()) return fail("missing host");
  if (port.empty() && authority.find(':') != std::string_view::npos && authority.front() != '[') {
    return fail("empty port");
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
      return fail("bad port");
    }
    v.port = std::string(port);
  } else {
    v.port = "80";
  }
  v.path = std::string(path);
  v.url = std::string(scheme) + std::string(authority) + v.path;
  return v;
}

}  // namespace mkv::before_boost_url
