// A rebuild as a steppable job: walks every volume's JSON autoindex (and asks each volume for
// the bucket marker of each of its top-level directories, which no listing shows), gathers every
// key found (mkv/rebuild.h decides each record), writes a new index beside the old one (keeping
// the checksum the old one knows of every key whose size is unchanged), and puts it in place in
// one step. It holds no terminal output: whoever drives it reads its counts and shows them as it
// likes.
#pragma once

#include "index/backend.h"
#include "volume/client.h"
#include "volume/transport.h"

#include "mkv/autoindex.h"
#include "mkv/rebuild.h"
#include "mkv/rebuild_report.h"
#include "mkv/topology.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mkv {

class RebuildJob {
 public:
  enum class Phase {
    walking,   // listing directories on the volumes
    writing,   // writing the new index beside the old one
    finished,  // the new index is in place
  };

  // Rebuilds the index at location from the volumes of topology, with at most concurrency
  // directory listings in flight. The caller owns the index (IndexBackend::claim); volumes must
  // outlive the job.
  RebuildJob(std::string location, VolumeClient& volumes, Topology topology,
             std::size_t concurrency);

  // Does the next piece of work: lists about a thousand directories (or asks for as many
  // bucket markers, one per top-level directory of each volume), or writes a batch of the
  // new index, or puts the new index in place. Returns whether work is left. Fails, leaving the
  // old index as it was, when a volume could not be read to the end (unreadable() names them)
  // or the new index could not be written or put in place.
  net::awaitable<Result<bool>> step();

  Phase phase() const { return phase_; }
  // The walk's counts (seconds is left to the driver, which keeps the time).
  WalkProgress walk_progress() const;
  // Keys written to the new index so far, and the keys to write.
  std::uint64_t keys_written() const { return summary_.keys; }
  std::uint64_t keys_total() const { return keys_total_; }
  // What was indexed (complete once finished).
  const RebuildSummary& summary() const { return summary_; }
  // The volumes the walk could not read to the end, and why.
  const std::vector<UnreadableVolume>& unreadable() const { return unreadable_report_; }
  // A few of the entries the walk skipped, each "url/path: why".
  const std::vector<std::string>& skipped_examples() const { return walk_.skipped_examples; }

  // The walk of every volume: the directories still to list (and the bucket markers to ask
  // for), and what was found so far. The workers share it on one thread, so it needs no lock.
  struct Directory {
    std::size_t volume = 0;  // an index into the topology's volumes
    std::string prefix;      // its key prefix ("" for the root), or the key of a marker
    bool marker = false;     // a bucket marker to ask for by name (mkv/autoindex.h)
  };
  struct Walk {
    std::deque<Directory> queue;     // directories to list
    std::size_t listing = 0;         // directories being listed right now
    std::size_t budget = 0;          // directories this step may still start listing
    std::vector<std::size_t> open;   // per volume: its directories queued or being listed
    std::vector<std::optional<std::string>> unreadable;  // per volume: why it was given up
    std::map<std::string, KeyCopies> keys;  // every key found, with its record so far
    WalkProgress counts;
    std::uint64_t skipped = 0;
    std::vector<std::string> skipped_examples;
  };

 private:
  net::awaitable<Result<bool>> walk_some();
  Result<bool> write_some();

  std::string location_;
  VolumeClient& volumes_;
  Topology topology_;
  std::size_t concurrency_;
  Phase phase_ = Phase::walking;
  Walk walk_;
  std::vector<UnreadableVolume> unreadable_report_;
  std::optional<IndexBackend> replacement_;
  std::optional<IndexBackend> old_;  // the index being replaced, for its checksums
  std::uint64_t keys_total_ = 0;
  RebuildSummary summary_;
};

}  // namespace mkv
