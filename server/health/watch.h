// Watching the volumes while `serve` runs: the capability check of every volume at start-up,
// then a probe of each every --health-interval, and a capability check whenever a volume's
// health asks for one (it came back, or has been unwritable a while).
#pragma once

#include "asio.h"
#include "current_topology.h"
#include "volume/client.h"

#include <chrono>

namespace mkv {

// Checks the capabilities of every volume of the topology in force, all at once; returns when
// they are done or after `wait`, whichever comes first (checks still running go on).
net::awaitable<void> check_volumes(VolumeClient& volumes, const CurrentTopology& topology,
                                   std::chrono::milliseconds wait);

// Probes the volumes of the topology in force every interval (0: never), with a timeout of the
// interval, at least one second. Probes start at a fixed rate, so a volume that hangs is seen
// to fail once per interval. Runs until its io_context stops.
net::awaitable<void> probe_volumes(VolumeClient& volumes, const CurrentTopology& topology,
                                   std::chrono::milliseconds interval);

}  // namespace mkv
