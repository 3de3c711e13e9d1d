// Signed, expiring volume URLs: what a volume whose nginx checks links with the secure_link
// module accepts. The contract between mkv and every volume's configuration
// (scripts/nginx-volume.conf.in, docs/security.md):
//
//   secure_link     $arg_md5,$arg_expires;
//   secure_link_md5 "$secure_link_expires$mkv_link_scope$uri SECRET";
//   map $request_method $mkv_link_scope { GET r; HEAD r; default w; }
//
// so a URL is signed by the query "?md5=M&expires=E" where E is the Unix time after which the
// volume answers 410, and M is the MD5 of the text E, the scope ('r' for GET and HEAD, 'w' for
// every other method), the request's percent-decoded path (nginx's $uri), a space and the
// secret, in base64url without padding. A redirect handed to a client is signed for reading:
// it cannot be used to write or delete. mkv signs its own requests to the volumes the same way.
#pragma once

#include "mkv/checksum.h"
#include "mkv/error.h"

#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <boost/url/pct_string_view.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace mkv {

// What a signature allows: reading (GET, HEAD) or everything else (PUT, DELETE, MOVE).
enum class LinkScope : char { read = 'r', write = 'w' };

// Returns the scope a request of method needs.
[[nodiscard]] inline LinkScope scope_of(std::string_view method) {
  return method == "GET" || method == "HEAD" ? LinkScope::read : LinkScope::write;
}

// Returns M of the contract above for a request of scope to the decoded path uri that expires
// at expires (Unix seconds).
[[nodiscard]] inline std::string link_signature(std::int64_t expires, LinkScope scope,
                                                std::string_view uri, std::string_view secret) {
  std::string text = std::to_string(expires);
  text += static_cast<char>(scope);
  text += uri;
  text += ' ';
  text += secret;
  const Md5 digest = md5_of(text);
  // Base64 without padding (these iterators never pad), then the URL-safe alphabet.
  using namespace boost::archive::iterators;
  using Base64 = base64_from_binary<transform_width<const std::uint8_t*, 6, 8>>;
  std::string encoded(Base64(digest.data()), Base64(digest.data() + digest.size()));
  for (char& c : encoded) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return encoded;
}

// Returns target (a request target in origin form, "/path", as mkv sends it to a volume, or a
// whole URL, "http://host:port/path", as a redirect's Location; neither with a query) with the
// signature of a request of method expiring at expires as its query; volume_request_failed if
// target is neither, or its path has a malformed escape.
[[nodiscard]] inline Result<std::string> sign_target(std::string_view target,
                                                     std::string_view method,
                                                     std::int64_t expires,
                                                     std::string_view secret) {
  const auto refuse = [&] {
    return Error::volume_request_failed("cannot sign " + std::string(target));
  };
  std::string_view path = target;
  if (const auto scheme = target.find("://"); scheme != std::string_view::npos) {
    const auto slash = target.find('/', scheme + 3);
    if (slash == std::string_view::npos) return refuse();
    path = target.substr(slash);
  }
  if (!path.starts_with('/') || path.find_first_of("?#") != std::string_view::npos) {
    return refuse();
  }
  const auto encoded = boost::urls::make_pct_string_view(path);
  if (!encoded) return refuse();
  std::string out(target);
  out += "?md5=";
  out += link_signature(expires, scope_of(method), encoded->decode(), secret);
  out += "&expires=";
  out += std::to_string(expires);
  return out;
}

// Returns whether secret can stand in the volumes' nginx configuration as it is: 16 to 256
// characters of base64 or base64url ([A-Za-z0-9+/=_-]), nothing nginx would read as syntax or
// a variable. `head -c 32 /dev/urandom | base64` makes one.
[[nodiscard]] inline bool acceptable_link_secret(std::string_view secret) {
  if (secret.size() < 16 || secret.size() > 256) return false;
  for (const char c : secret) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace mkv
