// `mkv serve`: builds the shared parts of a server (index, writer, locks, volume pools) and runs
// the listener on one io_context per thread until SIGINT or SIGTERM.
#pragma once

#include "app.h"

#include "mkv/topology.h"

#include <string>

namespace mkv {

// Serves the index at location over topology with settings until SIGINT or SIGTERM, then
// finishes the requests in progress and returns the process exit code.
int run_server(const std::string& location, Topology topology, const ServerSettings& settings);

}  // namespace mkv
