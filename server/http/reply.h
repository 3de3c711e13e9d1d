// Replies to clients: the one place an Error becomes an HTTP response, and the framing and
// wire text of a reply.
#pragma once

#include "asio.h"

#include "mkv/error.h"

#include <boost/beast/http.hpp>

#include <string>

namespace mkv {

using Reply = http::response<http::string_body>;

// Returns a reply with status and no fields.
Reply empty_reply(http::status status);

// Returns the reply for error: its status, its message as a text/plain line (ending in a
// newline), and Allow for a 405. The one place an error becomes an HTTP response.
Reply error_reply(const Error& error);

// Sets the framing of a reply to a request of the given method and version: Content-Length
// (for HEAD, the length its GET would have, without a body) and keep-alive.
void frame(Reply& reply, bool head, unsigned version, bool keep_alive);

// Writes reply's status line and fields to out as HTTP/1.x wire text, ending with the blank
// line; the body follows separately. (What Beast's serializer sends for a reply with a
// Content-Length, built in one string so the reply goes out in one write without Beast's
// buffer-sequence machinery, which cost more than the rest of an index-only GET.)
void write_head(const Reply& reply, std::string& out);

}  // namespace mkv
