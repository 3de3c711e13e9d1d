// The cluster's settings: which volumes hold blobs and how many copies each key gets. A running
// server holds them as one immutable snapshot that can be replaced while it serves (a volume
// added or removed online); a request reads the snapshot once and uses it throughout.
#pragma once

#include "mkv/error.h"
#include "mkv/health.h"
#include "mkv/placement.h"
#include "mkv/volume.h"

#include <cstddef>
#include <span>
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

// Returns the text that records which topology keys were placed by: "r=N" and then each
// volume URL, one per line. Two topologies place every key alike exactly when their texts are
// equal.
[[nodiscard]] inline std::string placement_text(const Topology& t) {
  std::string out = "r=" + std::to_string(t.replicas) + '\n';
  for (const auto& url : t.urls) out += url + '\n';
  return out;
}

// Returns the volumes a PUT of key writes to: the first t.replicas of its ranking, or
// not_enough_volumes when fewer are configured.
[[nodiscard]] inline Result<std::vector<std::string>> placement_of(std::string_view key,
                                                                  const Topology& t) {
  return volumes_for_key(key, t.urls, t.replicas);
}

// Returns the volumes a PUT of key writes to, given states[i], the state of t.volumes[i]: its
// placement when every placement volume is up. When one is not: with fallback, the first
// t.replicas volumes of the key's ranking that are up, in ranking order (not_enough_volumes
// when fewer are up); without, volume_write_failed, at once. not_enough_volumes when fewer
// volumes than replicas are configured at all.
[[nodiscard]] inline Result<std::vector<std::string>> write_targets(
    std::string_view key, const Topology& t, std::span<const VolumeState> states, bool fallback) {
  if (t.urls.size() < t.replicas) return Error::not_enough_volumes(t.replicas, t.urls.size());
  const auto order = rank_volumes(key, t.urls);
  std::vector<std::string> targets;
  targets.reserve(t.replicas);
  for (std::size_t i = 0; i < t.replicas; ++i) {
    if (!writable(states[order[i]])) {
      if (!fallback) return Error::volume_write_failed(t.urls[order[i]] + " is " +
                                                      std::string(state_name(states[order[i]])));
      targets.clear();
      break;
    }
    targets.push_back(t.urls[order[i]]);
  }
  if (targets.size() == t.replicas) return targets;
  for (std::size_t i : order) {
    if (writable(states[i])) targets.push_back(t.urls[i]);
    if (targets.size() == t.replicas) return targets;
  }
  return Error::not_enough_volumes(t.replicas, targets.size());
}

}  // namespace mkv
