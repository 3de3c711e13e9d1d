// One volume walked for rebuild as a stream of its files in key order (mkv/rebuild_walk.h says
// why a depth-first walk of sorted listings gives that order). It holds only the listings of the
// directories on its path and of the few directories it lists ahead, so its memory does not grow
// with the number of keys on the volume. Listings ahead run while the caller merges and writes.
#pragma once

#include "volume/client.h"
#include "volume/transport.h"

#include "mkv/rebuild_report.h"
#include "mkv/rebuild_walk.h"
#include "mkv/volume.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mkv {

// What every volume's walk counts, shared with the listings in flight (which hold it, so that a
// listing finishing after its walk was dropped still has it). One thread uses it: no lock.
struct WalkTally {
  WalkProgress counts;  // volumes, volumes_done, directories, files, bytes (keys: the caller's)
  std::uint64_t skipped = 0;
  std::vector<std::string> skipped_examples;           // a few, "url/path: why"
  std::vector<std::optional<std::string>> unreadable;  // per volume: why it was given up
  std::size_t in_flight = 0;                           // listings requested ahead, not yet in
  std::size_t ahead_limit = 16;                        // at most this many of them at once
};

// A directory listing requested ahead of its turn; the walk waits on ready until items is set.
struct PendingListing {
  explicit PendingListing(const net::any_io_executor& executor)
      : ready(executor, net::steady_timer::time_point::max()) {}
  std::optional<Result<std::vector<WalkItem>>> items;  // in walk order
  net::steady_timer ready;                             // cancelled once items is set
};

class VolumeWalk {
 public:
  // Walks volume (position `index` among the walked volumes), listing up to lookahead
  // directories ahead of its position in each directory on its path, as tally's ahead_limit
  // allows. volumes must outlive the listings in flight (the io_context that runs them).
  VolumeWalk(VolumeClient& volumes, Volume volume, std::size_t index, std::size_t lookahead,
             std::shared_ptr<WalkTally> tally);

  // Returns whether head() is known without listing anything: a file, or the end.
  bool ready() const { return ended_ || (!stack_.empty() && at_file(stack_.back())); }
  // Lists directories until head() is known. Fails when the volume cannot be read to the end
  // (the tally's unreadable says why); the walk is then over.
  net::awaitable<Result<void>> advance();
  // Returns the next file in key order, or nullptr at the end. Only when ready().
  const WalkItem* head() const { return ended_ ? nullptr : &current(); }
  // Moves past head().
  void pop() { stack_.back().next += 1; }

 private:
  // A directory on the walk's path: its items, where the walk is among them, and the listings
  // of its next directories, requested ahead (for items[next..scanned) that are directories).
  struct Frame {
    std::string prefix;
    std::vector<WalkItem> items;
    std::size_t next = 0;
    std::size_t scanned = 0;
    std::deque<std::shared_ptr<PendingListing>> ahead;
  };
  static bool at_file(const Frame& f) {
    return f.next < f.items.size() && !f.items[f.next].directory;
  }
  const WalkItem& current() const { return stack_.back().items[stack_.back().next]; }
  std::shared_ptr<PendingListing> request(const std::string& prefix, bool counted);
  void look_ahead(Frame& frame);
  net::awaitable<Result<void>> enter(std::shared_ptr<PendingListing> listing, std::string prefix);

  VolumeClient& volumes_;
  Volume volume_;
  std::size_t index_;
  std::size_t lookahead_;
  std::shared_ptr<WalkTally> tally_;
  std::optional<net::any_io_executor> executor_;
  std::vector<Frame> stack_;
  bool started_ = false;
  bool ended_ = false;
};

}  // namespace mkv
