// The admin listener of `mkv serve` (--admin-bind, --admin-port): GET /metrics, and the online
// jobs the CLI hands over (POST /jobs/...; mkv/admin_request.h). It is the only way to start a
// job: the public port never does. Loopback by default, unauthenticated: whoever can reach it
// can read the metrics and start a verify or a gc.
#pragma once

#include "app.h"
#include "asio.h"

#include <string>

namespace mkv {

// Accepts admin connections on acceptor (all served on its executor, one at a time per
// connection) until it is closed.
net::awaitable<void> accept_admin(App& app, net::ip::tcp::acceptor& acceptor);

}  // namespace mkv
