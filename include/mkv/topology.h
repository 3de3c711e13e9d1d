// The cluster's settings: which volumes hold blobs and how many copies each key gets. A running
// server holds them as one immutable snapshot that can be replaced while it serves (a volume
// added or removed online); a request reads the snapshot once and uses it throughout.
#pragma once

#include "mkv/error.h"
#include "mkv/placement.h"
#include "mkv/volume.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

// The volumes and the replication factor, as -v and -r give them.
struct Topology {
  std::vector<Volume> volumes;
  std::vector<std::string> urls;  // volumes[i].url: the placement identities, in -v order
  std::size_t replicas = 1;

  friend bool operator==(const Topology&, const Topology&) = default;
};

// Returns the topology of the volumes (parsed from a -v list) and replicas.
[[nodiscard]] inline Topology make_topology(std::vector<Volume> volumes, std::size_t replicas) {
  Topology t;
  t.urls.reserve(volumes.size());
  for (const auto& v : volumes) t.urls.push_back(v.url);
  t.volumes = std::move(volumes);
  t.replicas = replicas;
  return t;
}

// Returns the volumes a PUT of key writes to: the first t.replicas of its ranking, or
// not_enough_volumes when fewer are configured.
[[nodiscard]] inline Result<std::vector<std::string>> placement_of(std::string_view key,
                                                                  const Topology& t) {
  return volumes_for_key(key, t.urls, t.replicas);
}

}  // namespace mkv
