// The topology a running server places keys by: one immutable snapshot, read atomically by
// every request and replaced whole while serving (an online rebalance replaces it).
#pragma once

#include "mkv/topology.h"

#include <atomic>
#include <memory>
#include <utility>

namespace mkv {

class CurrentTopology {
 public:
  explicit CurrentTopology(Topology initial)
      : snapshot_(std::make_shared<const Topology>(std::move(initial))) {}
  CurrentTopology(const CurrentTopology&) = delete;
  CurrentTopology& operator=(const CurrentTopology&) = delete;

  // Returns the snapshot in force now. A request reads it once and uses that snapshot to the
  // end, even if it is replaced meanwhile.
  std::shared_ptr<const Topology> load() const { return snapshot_.load(); }

  // Puts next in force for the requests that begin from now on.
  void replace(Topology next) {
    snapshot_.store(std::make_shared<const Topology>(std::move(next)));
  }

 private:
  std::atomic<std::shared_ptr<const Topology>> snapshot_;
};

}  // namespace mkv
