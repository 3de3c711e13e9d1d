// `mkv rebalance`: moves every key's copies onto its placement among the configured volumes,
// page by page, journalled so that a killed run is finished by the next one.
#pragma once

#include "app.h"

#include <cstddef>

namespace mkv {

struct RebalanceOptions {
  bool dry_run = false;          // print the plan and change nothing
  std::size_t concurrency = 16;  // moves (or deletes) in flight at once
};

// Rebalances the index at config.db onto config.volumes with config.replicas copies per key,
// as rebalance.h (the decisions) describes: first finishing the journal an interrupted run
// left, then for each page of the index: journal, copy, write the index, delete. Refuses while
// another mkv process owns the index. Reports progress and a summary on stderr (the dry run's
// report goes to stdout); returns the exit code (0 every key placed, 1 otherwise).
int run_rebalance(const Config& config, const RebalanceOptions& options);

}  // namespace mkv
