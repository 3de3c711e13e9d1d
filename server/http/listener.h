// The listening socket of `mkv serve`: accepts client connections and hands each to an
// io_context in turn, one coroutine per connection.
#pragma once

#include "asio.h"

#include "app.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace mkv {

// The io_contexts of a server, one per IO thread; a connection stays on the one it was given.
using IoContexts = std::vector<std::unique_ptr<net::io_context>>;

// Serves one client connection (serve_connection() for the native API, the S3 API's own).
using ConnectionServer = std::function<net::awaitable<void>(beast::tcp_stream)>;

// Accepts connections until the acceptor is closed, serving each with serve on the next
// io_context of ios; connections beyond the limit (counted with every listener's) are closed
// at once.
net::awaitable<void> accept_connections(App& app, net::ip::tcp::acceptor& acceptor,
                                        IoContexts& ios, ConnectionServer serve);

}  // namespace mkv
