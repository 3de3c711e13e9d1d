// A rebuild as a steppable job: walks every volume's JSON autoindex in key order (and asks each
// volume for the bucket marker of each of its top-level directories, which no listing shows),
// merges the volumes' streams so that every copy of a key meets at once (mkv/rebuild.h decides
// each record), and writes the records, a batch at a time, to a new index beside the old one
// (keeping the checksum the old one knows of every key whose size is unchanged, read in step),
// which it puts in place in one step at the end. Its memory does not grow with the number of
// keys: it holds a few listings per volume and one batch. It holds no terminal output: whoever
// drives it reads its counts and shows them as it likes.
#pragma once

#include "index/backend.h"
#include "jobs/rebuild_walk.h"
#include "volume/client.h"
#include "volume/transport.h"

#include "mkv/rebuild.h"
#include "mkv/rebuild_report.h"
#include "mkv/topology.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mkv {

class RebuildJob {
 public:
  enum class Phase {
    walking,   // walking the volumes and writing the new index beside the old one
    finished,  // the new index is in place
  };

  // Rebuilds the index at location from the volumes of topology, with about concurrency
  // directory listings in flight. The caller owns the index (IndexBackend::claim); volumes must
  // outlive the job and the io_context that runs it.
  RebuildJob(std::string location, VolumeClient& volumes, Topology topology,
             std::size_t concurrency);

  // Does the next piece of work: indexes the next batch of keys (listing directories as the
  // walks reach them), or puts the new index in place once every volume is walked. Returns
  // whether work is left. Fails, discarding the new index and leaving the old one as it was,
  // when a volume could not be read to the end (unreadable() names them) or the new index could
  // not be written or put in place.
  net::awaitable<Result<bool>> step();

  Phase phase() const { return phase_; }
  // The walk's counts; keys are the keys indexed so far (seconds is left to the driver).
  WalkProgress walk_progress() const;
  // What was indexed so far (complete once finished).
  const RebuildSummary& summary() const { return summary_; }
  // The volumes the walk could not read to the end, and why.
  const std::vector<UnreadableVolume>& unreadable() const { return unreadable_report_; }
  // A few of the entries the walk skipped, each "url/path: why".
  const std::vector<std::string>& skipped_examples() const { return tally_->skipped_examples; }

 private:
  Result<void> open_indexes();
  net::awaitable<Result<void>> ready_heads();
  Result<void> fail_unreadable();
  void keep_old_checksum(RebuiltKey& k);
  Result<bool> finish();

  std::string location_;
  VolumeClient& volumes_;
  Topology topology_;
  Phase phase_ = Phase::walking;
  std::shared_ptr<WalkTally> tally_;
  std::vector<VolumeWalk> walks_;  // one per volume, in topology order
  std::vector<UnreadableVolume> unreadable_report_;
  std::optional<IndexBackend> replacement_;
  std::optional<IndexBackend> old_;  // the index being replaced, for its checksums
  std::vector<Entry> old_page_;      // the page of the old index the keys have reached
  std::size_t old_position_ = 0;     // the first entry of old_page_ not passed yet
  bool old_page_last_ = false;       // old_page_ ends the old index
  RebuildSummary summary_;
};

}  // namespace mkv
