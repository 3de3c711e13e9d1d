// What rebalance prints: the --dry-run report of a plan, and the progress line and closing
// summary of a run.
#pragma once

#include "mkv/format.h"
#include "mkv/rebalance_plan.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mkv {

// Returns one line (without '\n') saying what m does, e.g.
// "a/b (1.0 KiB): copy http://v1 -> http://v4; delete http://v3".
[[nodiscard]] inline std::string describe_move(const Move& m) {
  std::string out = m.key + " (" + format_bytes(m.before.size) + "): ";
  if (index_only(m)) return out + "reorder index to " + join(m.after.volumes, ", ");
  if (!m.copy_to.empty()) {
    out += "copy " + m.sources.front() + " -> " + join(m.copy_to, ", ");
  }
  if (!m.remove_from.empty()) {
    if (!m.copy_to.empty()) out += "; ";
    out += "delete " + join(m.remove_from, ", ");
  }
  return out;
}

// Returns the --dry-run report (each line ends in '\n'): the totals of summary, a table of the
// traffic per volume, and describe_move() of first_moves, the first moves of the plan in
// index order (the caller keeps as many as it wants shown).
[[nodiscard]] inline std::string format_dry_run(const PlanSummary& s,
                                                std::span<const Move> first_moves,
                                                std::size_t volume_count, std::size_t replicas) {
  std::string out = "rebalance dry run: " + std::to_string(volume_count) + " volumes, " +
                    std::to_string(replicas) + " replicas; nothing was changed\n";
  const auto line = [&](std::string_view label, std::uint64_t n, std::string extra = {}) {
    out += pad_right(std::string(label) + ':', 22) +
           pad_left(std::to_string(n), 12) + extra + '\n';
  };
  line("keys scanned", s.keys_scanned);
  line("keys to move", s.keys_moving);
  line("index-only rewrites", s.index_only);
  line("copies to make", s.copies, " (" + format_bytes(s.bytes) + ")");
  line("copies to delete", s.deletes);
  const std::uint64_t planned = s.keys_moving + s.index_only;
  if (planned == 0) return out + "nothing to do: every key is on its placement\n";

  if (!s.volumes.empty()) {
    std::size_t width = std::string_view("volume").size();
    for (const auto& [url, traffic] : s.volumes) width = std::max(width, url.size());
    out += '\n' + pad_right("volume", width) + pad_left("copies out", 12) +
           pad_left("copies in", 12) + pad_left("bytes in", 12) +
           pad_left("deletes", 12) + '\n';
    for (const auto& [url, t] : s.volumes) {
      out += pad_right(url, width) + pad_left(std::to_string(t.copies_out), 12) +
             pad_left(std::to_string(t.copies_in), 12) +
             pad_left(format_bytes(t.bytes_in), 12) +
             pad_left(std::to_string(t.deletes), 12) + '\n';
    }
  }
  if (!first_moves.empty()) {
    out += "\nfirst " + std::to_string(first_moves.size()) + " of " + std::to_string(planned) +
           " planned keys:\n";
    for (const auto& m : first_moves) out += "  " + describe_move(m) + '\n';
  }
  return out;
}

// How far a rebalance's execution has come, summed over the pages done so far.
struct RebalanceProgress {
  std::uint64_t keys_scanned = 0;     // index entries looked at
  std::uint64_t keys_planned = 0;     // entries that needed a move (index-only ones included)
  std::uint64_t keys_moved = 0;       // moves whose new record is in the index
  std::uint64_t keys_failed = 0;      // moves left undone because a copy could not be made
  std::uint64_t keys_changed = 0;     // keys rewritten or deleted while the run went (a
                                      // rewritten one is moved from its new record)
  std::uint64_t copies = 0;           // copies made
  std::uint64_t bytes = 0;            // bytes those copies transferred
  std::uint64_t deletes = 0;          // copies deleted (old ones, and unfinished ones undone)
  std::uint64_t delete_failures = 0;  // deletes that failed (the journal keeps them)
  std::uint64_t copies_abandoned = 0;  // old copies on a volume leaving -v that did not answer
                                       // (a dead volume being replaced): left where they are
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
  if (p.keys_changed > 0) {
    out += "  keys rewritten or deleted meanwhile (planned again from their new record): " +
           std::to_string(p.keys_changed) + '\n';
  }
  out += "  failed deletes: " + std::to_string(p.delete_failures) + '\n';
  if (p.copies_abandoned > 0) {
    out += "  copies left on volumes leaving -v that did not answer: " +
           std::to_string(p.copies_abandoned) + " (wipe those volumes before using them again)\n";
  }
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
