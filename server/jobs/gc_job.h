// Garbage collection as a steppable job: walks every volume's JSON autoindex (as rebuild does),
// its staging directory and its record areas (".mkv/uploads/", ".mkv/parts/"), and deletes every
// file no index record names on that volume and every staging file no unfinished overwrite
// names, once older than a grace period (mkv/gc.h decides). Each key file (a record area's file
// too) is re-checked under its key's write lock just before it is deleted,
// so a PUT committing the key meanwhile keeps its copy. Memory does not grow with the number of
// keys: records are read one file at a time, and each volume is walked depth first. It holds no
// terminal output: whoever drives it reads its counts and notes and shows them as it likes.
#pragma once

#include "index/backend.h"
#include "index/key_locks.h"
#include "volume/client.h"
#include "volume/transport.h"

#include "mkv/gc.h"
#include "mkv/topology.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace mkv {

// How a gc runs.
struct GcSettings {
  bool dry_run = false;              // list the orphans, delete nothing
  std::chrono::seconds grace{3600};  // orphans younger than this are kept
  std::size_t concurrency = 16;      // listings and deletions in flight at once
};

class GcJob {
 public:
  // Collects the orphans on the volumes of topology. The caller owns the index (and, outside a
  // server, claimed it); index, volumes and locks must outlive the job. locks are the key locks
  // every writer of the index takes (a fresh, uncontended set when nothing else writes).
  GcJob(IndexBackend& index, VolumeClient& volumes, KeyLocks& locks, Topology topology,
        GcSettings settings);

  // Does a bounded piece of work: about a thousand directory listings and deletions. Returns
  // whether work is left. Failures (a volume that cannot be listed, a delete that fails) are
  // counted in summary() and told in take_notes(), and the walk goes on without them.
  net::awaitable<Result<bool>> step();

  // Asks the job to stop after the listings and deletions in hand: the next step() returns
  // false. Nothing is left half done (a file is deleted whole or kept).
  void request_stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }

  // What was found and done so far (seconds is left to the driver, which keeps the time).
  const GcSummary& summary() const { return summary_; }

  // Returns the lines worth showing since the last call: in a dry run each orphan that would
  // be deleted ("would delete URL (N bytes, age S s): why"), and each failure.
  std::vector<std::string> take_notes();

  // A directory to list on a volume.
  struct Directory {
    std::size_t volume = 0;  // an index into the topology's volumes
    std::string prefix;      // its key prefix ("" for the root, ".mkv/parts/" for an area)
    bool staging = false;    // the volume's staging directory (prefix unused)
  };
  // An orphan old enough to delete.
  struct Orphan {
    std::size_t volume = 0;
    std::string path;  // its key (or name, for a staging file) relative to its directory's root
    std::uint64_t size = 0;
    std::int64_t age = 0;
    GcFile why = GcFile::unindexed;
  };
  // The work still to do and what the workers of a step share; they run on one thread, so it
  // needs no lock.
  struct Work {
    // Per volume, the directories to list, last found first: a depth-first walk holds only the
    // unlisted siblings of the directories on its path, where a breadth-first one would hold a
    // whole level of the tree (a number of directories that grows with the keys).
    std::vector<std::vector<Directory>> directories;
    std::size_t queued = 0;         // directories to list, over all volumes
    std::size_t turn = 0;           // the volume to take a directory from next
    std::deque<Orphan> orphans;     // orphans to re-check and delete
    std::size_t busy = 0;           // listings and deletions in flight right now
    std::size_t budget = 0;         // listings and deletions this step may still start
    std::vector<std::size_t> open;  // per volume: its directories queued or being listed
    std::vector<bool> unreadable;   // per volume: given up
  };

 private:
  IndexBackend& index_;
  VolumeClient& volumes_;
  KeyLocks& locks_;
  Topology topology_;
  GcSettings settings_;
  Work work_;
  GcSummary summary_;
  std::vector<std::string> notes_;
  bool stopping_ = false;
};

}  // namespace mkv
