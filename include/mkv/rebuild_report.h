// What rebuild prints while it runs and when it ends: the progress line of the walk (which
// writes the new index as it goes), the report of volumes that could not be read, and the closing
// summary.
#pragma once

#include "mkv/format.h"
#include "mkv/rebuild.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mkv {

// How far rebuild's walk of every volume has come.
struct WalkProgress {
  std::size_t volumes = 0;        // volumes configured
  std::size_t volumes_done = 0;   // volumes walked to the end, or given up as unreadable
  std::uint64_t directories = 0;  // directories listed, over all volumes
  std::uint64_t files = 0;        // copies of keys found, over all volumes
  std::uint64_t keys = 0;         // distinct keys among them written to the new index so far
  std::uint64_t bytes = 0;        // total size of the copies found
  double seconds = 0;             // since the walk began
};

// Returns the one-line progress report of the walk, without a trailing newline, e.g.
// "rebuild: 1/3 volumes walked, 152 directories, 30000 files, 10000 keys indexed, 1.2 MiB,
// 15000 files/s". The walk lists directories ahead of the keys it merges, so files run ahead of
// keys; how many keys there are in all is known only at the end.
[[nodiscard]] inline std::string format_walk_progress(const WalkProgress& p) {
  return "rebuild: " + std::to_string(p.volumes_done) + '/' + std::to_string(p.volumes) +
         " volumes walked, " + std::to_string(p.directories) + " directories, " +
         std::to_string(p.files) + " files, " + std::to_string(p.keys) + " keys indexed, " +
         format_bytes(p.bytes) + ", " + std::to_string(per_second(p.files, p.seconds)) + " files/s";
}

// A volume the walk could not read to the end, and why.
struct UnreadableVolume {
  std::string volume;
  std::string reason;

  friend bool operator==(const UnreadableVolume&, const UnreadableVolume&) = default;
};

// Returns the report of a rebuild that stopped because volumes could not be read (each line
// ends in '\n'): one line per volume, and that the index at db was left as it was.
[[nodiscard]] inline std::string format_unreadable(std::span<const UnreadableVolume> unreadable,
                                                   std::string_view db) {
  std::string out;
  for (const auto& u : unreadable) {
    out += "rebuild: cannot read " + u.volume + ": " + u.reason + '\n';
  }
  out += "rebuild: " + std::to_string(unreadable.size()) + " of the volumes could not be read; " +
         "the index " + std::string(db) + " was left unchanged\n";
  out +=
      "(bring the volumes back, or leave a volume that is gone for good out of -v, and run "
      "rebuild again)\n";
  return out;
}

// Returns the multi-line report printed when a rebuild ends (each line ends in '\n'); it
// suggests a rebalance when keys are under-replicated or misplaced, and a verify when
// checksums are unknown.
[[nodiscard]] inline std::string format_rebuild_summary(const RebuildSummary& s,
                                                        std::size_t replicas) {
  std::string out = "rebuild: indexed " + std::to_string(s.keys) + " keys, " +
                    std::to_string(s.copies) + " copies, " + format_bytes(s.bytes) + '\n';
  out += "  under-replicated (fewer than " + std::to_string(replicas) +
         " copies): " + std::to_string(s.under_replicated) + '\n';
  out += "  misplaced (a copy outside the placement): " + std::to_string(s.misplaced) + '\n';
  out += "  size conflicts (copies of different sizes): " + std::to_string(s.size_conflicts) + '\n';
  out += "  skipped entries (not keys): " + std::to_string(s.skipped) + '\n';
  const std::uint64_t unknown = s.keys - std::min(s.keys, s.checksums_kept);
  out += "  checksums unknown: " + std::to_string(unknown) +
         " (kept from the old index: " + std::to_string(s.checksums_kept) + ")\n";
  if (s.under_replicated > 0 || s.misplaced > 0) {
    out += "run `rebalance` to bring every key onto its placement\n";
  }
  if (unknown > 0) out += "run `verify` to compute the checksums that are unknown\n";
  return out;
}

}  // namespace mkv
