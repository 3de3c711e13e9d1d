// `mkv rebuild`: reconstructs the index from what the volumes hold and puts it in place of the
// old one with a single rename, so a failed or killed rebuild leaves the old index as it was.
#pragma once

#include "app.h"

#include <cstddef>

namespace mkv {

struct RebuildOptions {
  std::size_t concurrency = 16;  // directory listings in flight at once, over all volumes
};

// Walks every volume of config through its JSON autoindex, builds the index of every key
// found at config.db + ".rebuild", and renames it over config.db. Refuses while another mkv
// process owns the index, and leaves the old index in place when any volume cannot be read to
// the end or anything else fails. Reports progress and a summary on stderr; returns the exit
// code (0 replaced, 1 not replaced).
int run_rebuild(const Config& config, const RebuildOptions& options);

}  // namespace mkv
