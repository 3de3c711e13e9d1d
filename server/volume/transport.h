// What every volume request shares: its answer as a value, the transport failure of a request
// as an Error, and the head of a request without a body.
#pragma once

#include "asio.h"

#include "mkv/error.h"
#include "mkv/volume.h"

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

// Returns the head of an HTTP/1.1 request without a body: the request line, Host, the given
// extra field lines (each ending in "\r\n"), and the blank line. (Sent with one plain write:
// Beast's serializer costs more CPU than the rest of a DELETE.)
inline std::string request_head(std::string_view method, std::string_view target, const Volume& v,
                                std::string_view extra_fields = {}) {
  std::string head;
  head.reserve(64 + target.size() + extra_fields.size());
  head += method;
  head += ' ';
  head += target;
  head += " HTTP/1.1\r\nHost: ";
  head += host_field(v);
  head += "\r\n";
  head += extra_fields;
  head += "\r\n";
  return head;
}

}  // namespace mkv
