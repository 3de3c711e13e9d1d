// What every volume request shares: its answer as a value, the transport failure of a request
// as an Error, and the head of a request without a body.
#pragma once

#include "asio.h"

#include "mkv/error.h"
#include "mkv/signed_link.h"
#include "mkv/volume.h"

#include <chrono>
#include <string>
#include <string_view>

namespace mkv {

// A volume's answer: the HTTP status, or why there is none (Error::volume_request_failed).
using VolumeReply = Result<unsigned>;

// Returns the failure of a request to volume v: what was being done and the IO error.
inline Error transport_error(const Volume& v, std::string_view what,
                             const boost::system::error_code& ec) {
  return Error::volume_request_failed(v.url + ": " + std::string(what) + ": " + ec.message());
}

// Returns the Host field value for requests to v.
inline std::string host_field(const Volume& v) { return v.host + ':' + v.port; }

// How mkv signs the URLs of volumes that check signed links (mkv/signed_link.h: every request
// mkv makes to them, and every redirect it hands out): the secret shared with the volumes ("":
// they do not check, nothing is signed) and how long a signature stays good.
struct LinkSigning {
  std::string secret;
  std::chrono::seconds ttl{300};

  // Returns target (a request target or a whole URL) signed for a request of method, good for
  // ttl from now; target itself when nothing is signed.
  std::string sign(std::string_view method, std::string_view target) const {
    if (secret.empty()) return std::string(target);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    auto signed_target = sign_target(target, method, (now + ttl).count(), secret);
    // mkv makes every target it signs, so it always parses; sent unsigned, the volume says 403.
    return signed_target ? std::move(*signed_target) : std::string(target);
  }
};

// Returns the head of an HTTP/1.1 request without a body: the request line (its target signed
// as signing says), Host, the given extra field lines (each ending in "\r\n"), and the blank
// line. (Sent with one plain write: Beast's serializer costs more CPU than the rest of a
// DELETE.)
inline std::string request_head(std::string_view method, std::string_view target, const Volume& v,
                                const LinkSigning& signing, std::string_view extra_fields = {}) {
  std::string head;
  head.reserve(96 + target.size() + extra_fields.size());
  head += method;
  head += ' ';
  if (signing.secret.empty()) {
    head += target;
  } else {
    head += signing.sign(method, target);
  }
  head += " HTTP/1.1\r\nHost: ";
  head += host_field(v);
  head += "\r\n";
  head += extra_fields;
  head += "\r\n";
  return head;
}

}  // namespace mkv
