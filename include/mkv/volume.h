// Volume URLs: parsing the -v list, and the URLs and request targets of a key on a volume.
#pragma once

#include "mkv/error.h"
#include "mkv/key.h"

#include <cstddef>
#include <cstdint>
#include <optional>
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
      if (seen.url == v->url) return Error::invalid_query("volume " + v->url + " listed twice");
    }
    volumes.push_back(std::move(*v));
  }
  return volumes;
}

// What to do with an idempotent request to a volume (a DELETE, the PUT of a whole body) that
// got no answer on its keep-alive connection.
enum class Unanswered { resend, fail };

// Returns whether to send an unanswered request again, once, on a new connection.
// closed_cleanly: the volume answered an earlier request on the connection with
//   "Connection: close" (e.g. nginx's keepalive_requests), so it read none of the later ones.
// connection_worked: the connection had answered before it failed; a pooled connection the
//   volume dropped while idle fails this way, and a fresh try is likely to work. A connection
//   that never answered fails for a reason a new one would meet again.
// resent_before: this request was already sent again after a failure.
[[nodiscard]] constexpr Unanswered after_no_answer(bool closed_cleanly, bool connection_worked,
                                                   bool resent_before) {
  if (closed_cleanly) return Unanswered::resend;  // never reached the volume: always safe
  return connection_worked && !resent_before ? Unanswered::resend : Unanswered::fail;
}

// Returns whether the body of a PUT to a volume may share the volume's pipeline: it is whole
// in memory, exactly the length the request declares (a short body on a pipelined connection
// would take the next request's bytes as its own), and at most limit bytes (a large one would
// hold up the requests queued behind it).
[[nodiscard]] constexpr bool pipelinable_body(bool whole, std::optional<std::uint64_t> declared,
                                              std::uint64_t size, std::uint64_t limit) {
  return whole && declared && *declared == size && size <= limit;
}

// Returns the request target of key on volume v: "/prefix/encoded/key".
[[nodiscard]] inline std::string volume_target(const Volume& v, std::string_view key) {
  return v.path + '/' + encode_key(key);
}

// Returns the request target of a staging file on volume v. Staged overwrites are written
// there and then moved onto the key; `token` is unique per PUT and has no '/'.
[[nodiscard]] inline std::string staging_target(const Volume& v, std::string_view token) {
  return v.path + '/' + std::string(reserved_segment) + "/staging/" + std::string(token);
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
