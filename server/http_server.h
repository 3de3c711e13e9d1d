// `mkv serve`: the HTTP listener, one coroutine per connection, and graceful shutdown.
#pragma once

#include "app.h"

namespace mkv {

// Serves the index at config.db until SIGINT or SIGTERM, then finishes the requests in
// progress and returns the process exit code.
int run_server(const Config& config);

}  // namespace mkv
