// Deleting copies on volumes, best effort: what DELETE does after the record is gone, and what
// a PUT does with copies it no longer wants. Failures are logged, never returned.
#pragma once

#include "app.h"

#include <boost/asio.hpp>

#include <string>
#include <vector>

namespace mkv {

// Where one PUT writes on one placement volume.
struct Destination {
  VolumePool* volume;
  std::string target;  // the key's path, or a staging path for an overwrite
};

// Deletes key from each of the volumes at urls, concurrently.
net::awaitable<void> remove_copies(App& app, std::string key, std::vector<std::string> urls);

// Deletes what a PUT wrote (or may have written) at each destination, concurrently.
net::awaitable<void> remove_written(std::vector<Destination> written);

// Deletes target on volume and ignores the answer (for deletes whose failure shows later
// anyway).
net::awaitable<void> remove_quietly(VolumePool& volume, std::string target);

}  // namespace mkv
