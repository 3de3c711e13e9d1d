// The decisions of a PUT fan-out: how to write, what to undo when a volume fails, and which
// copies to clean up once the index is committed.
//
// A PUT of a new key writes straight to /{key} on every placement volume; if any write fails,
// the writes that succeeded are deleted (nothing was there before, so nothing is lost).
//
// A PUT over an existing key must never lose the old value, so it is staged: the body is
// written to a staging path on every placement volume, the index is committed, then each
// staged file is moved (WebDAV MOVE, a rename on the volume) onto /{key}. A failed staging
// write leaves the old value untouched everywhere. A failed move is rare (the volume died
// between the write and the move); the index is then narrowed to the volumes that moved, or
// put back to the old record if none did.
#pragma once

#include "mkv/record.h"
#include "mkv/volume_answer.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mkv {

enum class PutMode {
  direct,  // nothing stored under the key: write to /{key}
  staged,  // overwrite: write aside, commit, then move onto /{key}
};

// Returns how a PUT must write given the key's current record.
[[nodiscard]] inline PutMode put_mode(const std::optional<Record>& existing) {
  return existing ? PutMode::staged : PutMode::direct;
}

// What became of the write to one volume.
enum class WriteOutcome {
  stored,   // the volume answered 201 or 204
  refused,  // nothing can be there: the volume answered an error, could not be reached, or
            // was abandoned before it had the whole body
  unknown,  // the whole body went out but no answer came back (a timeout or reset): the
            // volume may still finish the write later
};

// Returns what became of the PUT of a body to one volume: status is the volume's answer, or
// nullopt when none came (the upload failed in transport or was abandoned); body_sent says
// whether the whole body went out. A body that went out whole without an answer may still be
// written by the volume later.
[[nodiscard]] constexpr WriteOutcome put_outcome(std::optional<unsigned> status, bool body_sent) {
  if (status) {
    return classify_answer(VolumeVerb::put, *status) == Answer::done ? WriteOutcome::stored
                                                                     : WriteOutcome::refused;
  }
  return body_sent ? WriteOutcome::unknown : WriteOutcome::refused;
}

// Returns whether a volume's answer to a PUT in mode says that a directory is in the key's way:
// nginx answers 409 to a PUT of "a" while a directory "a/" exists there (left behind when the
// keys below it were deleted: nginx never removes directories). For a new key, written under
// its lock once no key below it is stored or being written, mkv clears the directory and
// writes again. An overwrite never meets one: the key is a file there.
[[nodiscard]] constexpr bool directory_in_way(PutMode mode, std::optional<unsigned> status) {
  return mode == PutMode::direct && status == 409u;
}

// What to do after every placement volume answered a write.
struct FanOutDecision {
  bool commit = false;             // every volume wrote: go on to the index
  std::vector<std::size_t> undo;   // volumes whose write must be deleted (set when !commit):
                                   // those that stored it or may have

  friend bool operator==(const FanOutDecision&, const FanOutDecision&) = default;
};

// Returns the decision for a fan-out where outcomes[i] is what became of volume i's write.
[[nodiscard]] inline FanOutDecision decide_rollback(const std::vector<WriteOutcome>& outcomes) {
  FanOutDecision d;
  d.commit = std::all_of(outcomes.begin(), outcomes.end(),
                         [](WriteOutcome o) { return o == WriteOutcome::stored; });
  if (!d.commit) {
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i] != WriteOutcome::refused) d.undo.push_back(i);
    }
  }
  return d;
}

// What the index must say after the moves of a staged PUT.
struct MoveDecision {
  enum class Action {
    keep,    // every move succeeded: the committed record stands
    narrow,  // some moved: record only the volumes in `kept`
    revert,  // none moved: put the old record back
  };
  Action action = Action::keep;
  std::vector<std::size_t> kept;    // volumes that hold the new value
  std::vector<std::size_t> failed;  // volumes whose move failed: delete their stale /{key}

  friend bool operator==(const MoveDecision&, const MoveDecision&) = default;
};

// Returns the decision for a staged PUT where moved[i] says whether volume i moved its
// staged file onto the key.
[[nodiscard]] inline MoveDecision decide_after_moves(const std::vector<bool>& moved) {
  MoveDecision d;
  for (std::size_t i = 0; i < moved.size(); ++i) (moved[i] ? d.kept : d.failed).push_back(i);
  if (d.failed.empty()) {
    d.action = MoveDecision::Action::keep;
  } else if (d.kept.empty()) {
    d.action = MoveDecision::Action::revert;
  } else {
    d.action = MoveDecision::Action::narrow;
  }
  return d;
}

// Returns the volumes of old that next no longer lists: their copies of the key are stale once
// next is committed and are deleted, best effort.
[[nodiscard]] inline std::vector<std::string> stale_copies(const std::optional<Record>& old,
                                                           const Record& next) {
  std::vector<std::string> stale;
  if (!old) return stale;
  for (const auto& v : old->volumes) {
    if (std::find(next.volumes.begin(), next.volumes.end(), v) == next.volumes.end()) {
      stale.push_back(v);
    }
  }
  return stale;
}

// Returns the subset of volumes at the given positions, in order.
[[nodiscard]] inline std::vector<std::string> pick(const std::vector<std::string>& volumes,
                                                   std::span<const std::size_t> positions) {
  std::vector<std::string> picked;
  picked.reserve(positions.size());
  for (std::size_t i : positions) picked.push_back(volumes[i]);
  return picked;
}

}  // namespace mkv
