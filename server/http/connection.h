// One client connection: a coroutine that reads a request, has it handled, writes the reply,
// and goes on while the connection is kept alive.
#pragma once

#include "asio.h"

#include "app.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

namespace mkv {

// Serves the requests of one client connection, one after the other, until the client closes
// it, a reply ends it, it idles for the client timeout, or the server stops (a request that
// arrives then is answered 503 and the connection closed).
net::awaitable<void> serve_connection(App& app, beast::tcp_stream stream);

// Closes a connection after its last reply, first reading (briefly) what the client still
// sends, so the close does not reset the connection before the client read the reply.
net::awaitable<void> linger_close(beast::tcp_stream& stream);

}  // namespace mkv
