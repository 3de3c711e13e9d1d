// Progress lines and end-of-run reports of the operations commands as they execute: rebuild's
// walk and index write, and a rebalance's moves. (Plans and per-key decisions are in rebuild.h
// and rebalance.h; this header only turns counts into text.)
#pragma once

#include "mkv/rebuild.h"  // format_bytes

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mkv {

// Returns count / seconds rounded down, or 0 when no time has passed.
[[nodiscard]] inline std::uint64_t per_second(std::uint64_t count, double seconds) {
  if (!(seconds > 0)) return 0;
  return static_cast<std::uint64_t>(static_cast<double>(count) / seconds);
}

// Returns a duration for people: "0.2 s" and "59.9 s" (one decimal, rounded down) below a
// minute, "4 min 5 s" below an hour, "2 h 3 min" beyond.
[[nodiscard]] inline std::string format_duration(double seconds) {
  if (!(seconds > 0)) seconds = 0;
  const auto tenths = static_cast<std::uint64_t>(seconds * 10);
  if (tenths < 600) return std::to_string(tenths / 10) + '.' + std::to_string(tenths % 10) + " s";
  const std::uint64_t whole = tenths / 10;
  if (whole < 3600) {
    return std::to_string(whole / 60) + " min " + std::to_string(whole % 60) + " s";
  }
  return std::to_string(whole / 3600) + " h " + std::to_string(whole % 3600 / 60) + " min";
}

// How far rebuild's walk of every volume has come.
struct WalkProgress {
  std::size_t volumes = 0;        // volumes configured
  std::size_t volumes_done = 0;   // volumes walked to the end, or given up as unreadable
  std::uint64_t directories = 0;  // directories listed, over all volumes
  std::uint64_t files = 0;        // copies of keys found, over all volumes
  std::uint64_t keys = 0;         // distinct keys among them
  std::uint64_t bytes = 0;        // total size of the copies found
  double seconds = 0;             // since the walk began
};

// Returns the one-line progress report of the walk, without a trailing newline, e.g.
// "rebuild: 1/3 volumes walked, 152 directories, 30000 files, 10000 keys, 1.2 MiB, 15000 files/s".
[[nodiscard]] inline std::string format_walk_progress(const WalkProgress& p) {
  return "rebuild: " + std::to_string(p.volumes_done) + '/' + std::to_string(p.volumes) +
         " volumes walked, " + std::to_string(p.directories) + " directories, " +
         std::to_string(p.files) + " files, " + std::to_string(p.keys) + " keys, " +
         format_bytes(p.bytes) + ", " + std::to_string(per_second(p.files, p.seconds)) +
         " files/s";
}

// Returns the one-line progress report of writing the rebuilt index, without a trailing
// newline, e.g. "rebuild: writing index: 20000/50000 keys".
[[nodiscard]] inline std::string format_index_write_progress(std::uint64_t written,
                                                             std::uint64_t total) {
  return "rebuild: writing index: " + std::to_string(written) + '/' + std::to_string(total) +
         " keys";
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
  for (const auto& u : unreadable) out += "rebuild: cannot read " + u.volume + ": " + u.reason + '\n';
  out += "rebuild: " + std::to_string(unreadable.size()) + " of the volumes could not be read; " +
         "the index " + std::string(db) + " was left unchanged\n";
  out += "(bring the volumes back, or leave a volume that is gone for good out of -v, and run "
         "rebuild again)\n";
  return out;
}

// How far a rebalance's execution has come, summed over the pages done so far.
struct RebalanceProgress {
  std::uint64_t keys_scanned = 0;     // index entries looked at
  std::uint64_t keys_planned = 0;     // entries that needed a move (index-only ones included)
  std::uint64_t keys_moved = 0;       // moves whose new record is in the index
  std::uint64_t keys_failed = 0;      // moves left undone because a copy could not be made
  std::uint64_t copies = 0;           // copies made
  std::uint64_t bytes = 0;            // bytes those copies transferred
  std::uint64_t deletes = 0;          // copies deleted (old ones, and unfinished ones undone)
  std::uint64_t delete_failures = 0;  // deletes that failed (the journal keeps them)
  double seconds = 0;                 // since the run began
};

// Returns the one-line progress report of a rebalance, without a trailing newline, e.g.
// "rebalance: 3000 keys scanned, 1400/1500 moved, 0 failed, 1400 copies (1.4 MiB),
// 1400 deletes, 700 keys/s".
[[nodiscard]] inline std::string format_rebalance_progress(const RebalanceProgress& p) {
  return "rebalance: " + std::to_string(p.keys_scanned) + " keys scanned, " +
         std::to_string(p.keys_moved) + '/' + std::to_string(p.keys_planned) + " moved, " +
         std::to_string(p.keys_failed) + " failed, " + std::to_string(p.copies) + " copies (" +
         format_bytes(p.bytes) + "), " + std::to_string(p.deletes) + " deletes, " +
         std::to_string(per_second(p.keys_moved, p.seconds)) + " keys/s";
}

// Returns the multi-line report printed when a rebalance ends (each line ends in '\n'); it says
// to run rebalance again when a move or a delete failed.
[[nodiscard]] inline std::string format_rebalance_summary(const RebalanceProgress& p) {
  std::string out = "rebalance: scanned " + std::to_string(p.keys_scanned) + " keys in " +
                    format_duration(p.seconds) + "; moved " +
                    std::to_string(p.keys_moved) + " of " + std::to_string(p.keys_planned) +
                    " (" + std::to_string(per_second(p.keys_moved, p.seconds)) + " keys/s)\n";
  out += "  copies made: " + std::to_string(p.copies) + " (" + format_bytes(p.bytes) + ")\n";
  out += "  copies deleted: " + std::to_string(p.deletes) + '\n';
  out += "  keys not moved (no copy could be made): " + std::to_string(p.keys_failed) + '\n';
  out += "  failed deletes: " + std::to_string(p.delete_failures) + '\n';
  if (p.keys_failed > 0 || p.delete_failures > 0) {
    out += "some keys are not on their placement yet: fix the volumes named above and run "
           "rebalance again\n";
  } else if (p.keys_planned == 0) {
    out += "nothing to do: every key is on its placement\n";
  } else {
    out += "every key is on its placement\n";
  }
  return out;
}

}  // namespace mkv
