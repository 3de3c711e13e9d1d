// Volume URLs: parsing the -v list, and the URLs and request targets of a key on a volume.
#pragma once

#include "mkv/error.h"
#include "mkv/key.h"

#include <boost/url/parse.hpp>

#include <cstddef>
#include <charconv>
#include <system_error>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// A volume server as configured: http://host[:port][/path/prefix].
struct Volume {
  std::string url;   // normalised: no trailing '/'; the identity used for placement
  std::string host;  // as written, without brackets for IPv6 literals
  std::string port;  // "80" when the URL has none
  std::string path;  // "" or "/prefix" without a trailing '/'

  friend bool operator==(const Volume&, const Volume&) = default;
};

// Returns the Volume described by text, or invalid_volume_url with the reason it is not an
// http:// URL with a host, an optional numeric port and an optional path (no query, no
// fragment, no user info). The URL is parsed by Boost.URL.
[[nodiscard]] inline Result<Volume> parse_volume_url(std::string_view text) {
  const auto fail = [&](std::string why) {
    return Error::invalid_volume_url("volume " + std::string(text) + ": " + why);
  };
  constexpr std::string_view scheme = "http://";
  if (!text.starts_with(scheme)) return fail("only http:// volumes are supported");
  if (text.find_first_of("?#@ ") != std::string_view::npos) {
    return fail("query, fragment, user info and spaces are not allowed");
  }
  const auto url = boost::urls::parse_uri(text);
  if (!url) {
    const std::string_view authority = text.substr(scheme.size());
    const bool unterminated = authority.starts_with('[') &&
                              authority.find(']') == std::string_view::npos;
    return fail(unterminated ? "unterminated IPv6 literal" : "not a host[:port][/path]");
  }
  const bool bracketed = url->host_type() == boost::urls::host_type::ipv6 ||
                         url->host_type() == boost::urls::host_type::ipvfuture;
  std::string_view path = url->encoded_path();
  if (!path.empty() && path.front() != '/') {
    // What follows the authority is not a path: "h:8o", "[::1]x", "1.2.3.4.".
    if (url->has_port()) return fail("bad port");
    return fail(bracketed ? "junk after IPv6 literal" : "not a host[:port][/path]");
  }
  Volume v;
  v.host = bracketed ? url->host_address() : std::string(url->encoded_host());
  if (v.host.empty()) return fail("missing host");
  const std::string_view port = url->port();
  if (url->has_port() && port.empty()) return fail("empty port");
  if (!port.empty()) {
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.size() > 5 || ec != std::errc{} || end != port.data() + port.size() || number == 0 ||
        number > 65535) {
      return fail("bad port");
    }
    v.port = std::string(port);
  } else {
    v.port = "80";
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  v.path = std::string(path);
  v.url = std::string(scheme) + std::string(url->encoded_authority()) + v.path;
  return v;
}

// Returns the volumes of a comma-separated -v list, or the first parse error. Empty items
// are skipped; a URL listed twice is an error.
[[nodiscard]] inline Result<std::vector<Volume>> parse_volume_list(std::string_view list) {
  std::vector<Volume> volumes;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item.empty()) continue;
    auto v = parse_volume_url(item);
    if (!v) return v.error();
    for (const auto& seen : volumes) {
      if (seen.url == v->url) {
        return Error::invalid_volume_url("volume " + v->url + " listed twice");
      }
    }
    volumes.push_back(std::move(*v));
  }
  return volumes;
}

// Returns the request target of key on volume v: "/prefix/encoded/key".
[[nodiscard]] inline std::string volume_target(const Volume& v, std::string_view key) {
  return v.path + '/' + encode_key(key);
}

// Returns the request target of the directory key/ on volume v: "/prefix/encoded/key/".
[[nodiscard]] inline std::string volume_directory_target(const Volume& v, std::string_view key) {
  return volume_target(v, key) + '/';
}

// Returns the request target of the directory on volume v that holds its staging files:
// "/prefix/.mkv/staging/".
[[nodiscard]] inline std::string staging_directory_target(const Volume& v) {
  return v.path + '/' + std::string(reserved_segment) + "/staging/";
}

// Returns the request target of a staging file on volume v. Staged overwrites are written
// there and then moved onto the key; `token` is unique per PUT and has no '/'.
[[nodiscard]] inline std::string staging_target(const Volume& v, std::string_view token) {
  return staging_directory_target(v) + std::string(token);
}

// Returns the absolute URL of key on the volume whose normalised URL is volume_url; this is
// the Location of a GET's redirect.
[[nodiscard]] inline std::string volume_location(std::string_view volume_url,
                                                 std::string_view key) {
  std::string location(volume_url);
  location.push_back('/');
  location += encode_key(key);
  return location;
}

}  // namespace mkv
