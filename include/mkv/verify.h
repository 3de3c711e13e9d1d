// Verify decisions: what one read copy of a blob is (good, missing, wrong size, corrupt,
// unreadable), what a key's copies together say (all good, repairable, lost, a conflict, a
// checksum learned), and the progress line and summary `mkv verify` prints.
#pragma once

#include "mkv/checksum.h"
#include "mkv/format.h"
#include "mkv/record.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// What one copy of a key turned out to be.
enum class CopyState {
  good,        // the record's size and, when known, its MD5
  missing,     // the volume answered 404
  wrong_size,  // a file of another size
  corrupt,     // the right size, another MD5
  unreadable,  // the volume could not be read (down, an error, cut off): nothing is known
};

// Returns "good", "missing", "wrong size", "corrupt" or "unreadable".
[[nodiscard]] constexpr std::string_view copy_state_name(CopyState s) {
  switch (s) {
    case CopyState::good: return "good";
    case CopyState::missing: return "missing";
    case CopyState::wrong_size: return "wrong size";
    case CopyState::corrupt: return "corrupt";
    case CopyState::unreadable: return "unreadable";
  }
  return "unknown";  // unreachable: every state is handled above
}

// What reading one copy gave: the volume's status (nullopt: no answer), and when it answered
// 200 the length it declared and, when the whole body was read, its MD5.
struct CopyRead {
  std::optional<unsigned> status;
  std::optional<std::uint64_t> length;
  std::optional<Md5> md5;
};

// Returns what the copy read as `read` is, for a key whose record is `record`. With the record's
// checksum unknown, a copy of the right size is good here; judge_key() compares the copies.
[[nodiscard]] inline CopyState classify_copy(const CopyRead& read, const Record& record) {
  if (!read.status) return CopyState::unreadable;
  if (*read.status == 404) return CopyState::missing;
  if (*read.status != 200 || !read.length) return CopyState::unreadable;
  if (*read.length != record.size) return CopyState::wrong_size;
  if (!read.md5) return CopyState::unreadable;  // cut off before the end
  if (record.md5 && *read.md5 != *record.md5) return CopyState::corrupt;
  return CopyState::good;
}

// One copy as verify found it.
struct CopyCheck {
  std::string volume;
  CopyState state = CopyState::unreadable;
  std::optional<Md5> md5;  // of a copy of the right size read whole

  friend bool operator==(const CopyCheck&, const CopyCheck&) = default;
};

// What a key's copies say together.
struct KeyVerdict {
  enum class Outcome {
    good,        // every copy good
    damaged,     // some copies bad, a good one to repair them from
    lost,        // no good copy left (unreadable ones aside, none could be one)
    conflict,    // checksum unknown, and copies of the right size disagree
    unreadable,  // no copy is bad, but some could not be read
  };
  Outcome outcome = Outcome::good;
  std::optional<Md5> learned;        // the checksum of a record that had none, all copies agreeing
  std::vector<std::string> bad;      // volumes whose copy must be replaced
  std::optional<std::string> source;  // a volume with a good copy

  friend bool operator==(const KeyVerdict&, const KeyVerdict&) = default;
};

// Returns what the copies of a key with record say. A record whose checksum is unknown learns
// the MD5 of its copies of the right size when they all agree; when two of them differ, the key
// is a conflict and nothing is repaired (mkv cannot tell which is right).
[[nodiscard]] inline KeyVerdict judge_key(const Record& record,
                                          const std::vector<CopyCheck>& copies) {
  KeyVerdict v;
  bool unreadable = false;
  std::optional<Md5> agreed;
  bool disagree = false;
  for (const auto& c : copies) {
    switch (c.state) {
      case CopyState::good:
        if (!v.source) v.source = c.volume;
        if (!record.md5 && c.md5) {
          if (agreed && *agreed != *c.md5) disagree = true;
          if (!agreed) agreed = c.md5;
        }
        break;
      case CopyState::missing:
      case CopyState::wrong_size:
      case CopyState::corrupt: v.bad.push_back(c.volume); break;
      case CopyState::unreadable: unreadable = true; break;
    }
  }
  if (disagree) {
    v.outcome = KeyVerdict::Outcome::conflict;
    v.bad.clear();
    v.source.reset();
    return v;
  }
  if (!record.md5) v.learned = agreed;
  if (!v.bad.empty()) {
    v.outcome = v.source ? KeyVerdict::Outcome::damaged
                         : (unreadable ? KeyVerdict::Outcome::unreadable
                                       : KeyVerdict::Outcome::lost);
  } else if (unreadable) {
    v.outcome = KeyVerdict::Outcome::unreadable;
  }
  return v;
}

// What a verify found and did, counted over the keys it checked.
struct VerifySummary {
  std::uint64_t keys = 0;
  std::uint64_t copies = 0;
  std::uint64_t bytes = 0;           // bytes read
  std::uint64_t good = 0;            // copies
  std::uint64_t missing = 0;         // copies
  std::uint64_t wrong_size = 0;      // copies
  std::uint64_t corrupt = 0;         // copies
  std::uint64_t unreadable = 0;      // copies
  std::uint64_t repaired = 0;        // copies replaced from a good one
  std::uint64_t repair_failed = 0;   // copies whose repair failed
  std::uint64_t learned = 0;         // keys whose unknown checksum was computed
  std::uint64_t conflicts = 0;       // keys whose copies disagree (checksum unknown)
  std::uint64_t lost = 0;            // keys with no good copy left
  std::uint64_t changed = 0;         // keys rewritten or deleted while checked: not judged
  double seconds = 0;

  friend bool operator==(const VerifySummary&, const VerifySummary&) = default;
};

// Returns summary with one copy's state counted in.
[[nodiscard]] inline VerifySummary tally_copy(VerifySummary s, CopyState state) {
  s.copies += 1;
  switch (state) {
    case CopyState::good: s.good += 1; break;
    case CopyState::missing: s.missing += 1; break;
    case CopyState::wrong_size: s.wrong_size += 1; break;
    case CopyState::corrupt: s.corrupt += 1; break;
    case CopyState::unreadable: s.unreadable += 1; break;
  }
  return s;
}

// Returns whether everything verify saw is good now: no bad copy left unrepaired, nothing
// unreadable, no conflict, nothing lost.
[[nodiscard]] inline bool verified(const VerifySummary& s) {
  const std::uint64_t bad = s.missing + s.wrong_size + s.corrupt;
  return s.repaired >= bad && s.repair_failed == 0 && s.unreadable == 0 && s.conflicts == 0 &&
         s.lost == 0;
}

// Returns the one-line progress report of a verify, without a trailing newline.
[[nodiscard]] inline std::string format_verify_progress(const VerifySummary& s) {
  return "verify: " + std::to_string(s.keys) + " keys, " + std::to_string(s.copies) +
         " copies, " + format_bytes(s.bytes) + " read (" +
         format_bytes(per_second(s.bytes, s.seconds)) + "/s, " +
         format_rate(s.keys, s.seconds) + " keys/s), " +
         std::to_string(s.missing + s.wrong_size + s.corrupt) + " bad, " +
         std::to_string(s.repaired) + " repaired";
}

// Returns the multi-line report printed when a verify ends (each line ends in '\n').
[[nodiscard]] inline std::string format_verify_summary(const VerifySummary& s, bool repair) {
  std::string out = "verify: checked " + std::to_string(s.keys) + " keys, " +
                    std::to_string(s.copies) + " copies, " + format_bytes(s.bytes) + " in " +
                    format_duration(s.seconds) + " (" +
                    format_bytes(per_second(s.bytes, s.seconds)) + "/s, " +
                    format_rate(s.keys, s.seconds) + " keys/s)\n";
  out += "  good copies: " + std::to_string(s.good) + '\n';
  out += "  missing: " + std::to_string(s.missing) + '\n';
  out += "  wrong size: " + std::to_string(s.wrong_size) + '\n';
  out += "  corrupt (checksum mismatch): " + std::to_string(s.corrupt) + '\n';
  out += "  unreadable (volume down or failing): " + std::to_string(s.unreadable) + '\n';
  out += "  checksums computed (were unknown): " + std::to_string(s.learned) + '\n';
  out += "  conflicts (copies disagree, checksum unknown): " + std::to_string(s.conflicts) + '\n';
  out += "  lost (no good copy left): " + std::to_string(s.lost) + '\n';
  if (s.changed > 0) {
    out += "  rewritten or deleted while checked (not judged): " + std::to_string(s.changed) +
           '\n';
  }
  if (repair) {
    out += "  repaired: " + std::to_string(s.repaired) + '\n';
    out += "  repairs failed: " + std::to_string(s.repair_failed) + '\n';
  }
  if (verified(s)) {
    out += repair && s.repaired > 0 ? "every copy is good again\n" : "every copy is good\n";
  } else if (!repair && s.missing + s.wrong_size + s.corrupt > 0) {
    out += "run `verify --repair` to replace the bad copies from good ones\n";
  }
  return out;
}

}  // namespace mkv
