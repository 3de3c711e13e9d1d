// One client connection of the S3 listener: a coroutine that reads a request, authenticates it
// (SigV4), routes it to an S3 operation, writes the reply (a GetObject's body streamed from a
// volume through mkv) and goes on while the connection is kept alive.
#pragma once

#include "asio.h"

#include "app.h"
#include "s3/service.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

namespace mkv {

// Serves the S3 requests of one client connection until the client closes it, a reply ends it,
// it idles for the client timeout, or the server stops.
net::awaitable<void> serve_s3_connection(App& app, S3Service& s3, beast::tcp_stream stream);

}  // namespace mkv
