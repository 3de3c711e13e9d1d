// Garbage collection decisions: whether a file a walk of a volume found is a copy some record
// names (keep it), an orphan younger than the grace period (keep it for now), or an orphan to
// delete; how old a file is by the volume's own clock; and the progress line and summary
// `mkv gc` prints.
//
// An orphan is a file on a volume that no index record names on that volume: its key has no
// record (a DELETE removed the record and failed to delete this copy), or its key's record
// lists other volumes only (a rebalance or an overwrite moved it and failed to delete this
// copy), or its path is not a valid key at all. A staging file (under the reserved
// ".mkv/staging/") is an orphan unless an unfinished overwrite's intent names its token.
//
// Two other areas of the reserved ".mkv/" hold blobs of index records whose keys are their
// paths though not valid keys (S3 multipart uploads): ".mkv/uploads/" (an unfinished upload's
// record, ".mkv/uploads/<bucket>/<uploadId>") and ".mkv/parts/" (its parts,
// ".mkv/parts/<bucket>/<uploadId>/<NNNNN>"). gc walks them too, and judges each file there by
// the record of its path like a key's file. Nothing else under ".mkv/" is ever touched.
//
// Age is measured against the volume's clock (the Date of its listing answer), never against
// this machine's, so a clock skew between the two cannot make a fresh file look old. A file
// whose time is unknown, or later than the volume's now, is never old enough to delete.
#pragma once

#include "mkv/autoindex.h"
#include "mkv/conditions.h"
#include "mkv/format.h"
#include "mkv/record.h"
#include "mkv/s3_names.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mkv {

// What a listed file is, as far as the index is concerned.
enum class GcFile {
  named,          // its key's record names this volume: a live copy
  unindexed,      // a valid key with no record
  elsewhere,      // its key's record names other volumes only
  not_a_key,      // its path is not a valid key, so no record can name it
  staging_stray,  // a staging file no unfinished overwrite names
  staging_held,   // a staging file an unfinished overwrite names (serve finishes it at start-up)
};

// Returns a few words saying what f is, for notes: "live copy", "no record", ...
[[nodiscard]] constexpr std::string_view gc_file_name(GcFile f) {
  switch (f) {
    case GcFile::named: return "live copy";
    case GcFile::unindexed: return "no record";
    case GcFile::elsewhere: return "record names other volumes";
    case GcFile::not_a_key: return "not a key";
    case GcFile::staging_stray: return "stale staging file";
    case GcFile::staging_held: return "staging file of an unfinished overwrite";
  }
  return "unknown";  // unreachable: every kind is handled above
}

// Returns what the file of a valid key is on the volume whose URL is volume_url, given the
// key's record (nullopt: the key is not indexed).
[[nodiscard]] inline GcFile classify_key_file(const std::optional<Record>& record,
                                              std::string_view volume_url) {
  if (!record) return GcFile::unindexed;
  const bool named = std::find(record->volumes.begin(), record->volumes.end(), volume_url) !=
                     record->volumes.end();
  return named ? GcFile::named : GcFile::elsewhere;
}

// The key prefixes of the areas of ".mkv/" whose files are blobs of index records.
inline constexpr std::array<std::string_view, 2> record_areas = {".mkv/uploads/", ".mkv/parts/"};

// Returns whether path (a file's key or a directory's key prefix) lies in a record area.
[[nodiscard]] constexpr bool in_record_area(std::string_view path) {
  return std::any_of(record_areas.begin(), record_areas.end(),
                     [&](std::string_view area) { return path.starts_with(area); });
}

// Returns whether a listing of the directory whose key prefix is dir_prefix that answers 404
// finds nothing there rather than failing: true in a record area, which a volume has only once
// an upload wrote to it (and a directory of which may go meanwhile); false elsewhere.
[[nodiscard]] constexpr bool absent_listing_is_empty(std::string_view dir_prefix) {
  return in_record_area(dir_prefix);
}

// Returns what gc's walk does with entry found in the directory whose key prefix is dir_prefix.
// In a record area: a file is a record's blob (record; path is its key), a directory is walked
// (descend; path is its key prefix), anything else is skipped. A bucket marker
// "<bucket>/.mkv-bucket" (s3_names.h), which a volume server that lists dot names shows, is a
// record's blob too. Everything else is as the walk of rebuild decides it (visit_entry): a file
// that is not a valid key is skip_invalid, which gc judges not_a_key.
[[nodiscard]] inline VisitDecision gc_visit_entry(std::string_view dir_prefix,
                                                  const ListingEntry& entry) {
  const bool top_level_dir = !dir_prefix.empty() && dir_prefix.find('/') == dir_prefix.size() - 1;
  const bool marker = top_level_dir && entry.kind == ListingKind::file &&
                      entry.name == bucket_marker_name &&
                      !key_problem(dir_prefix.substr(0, dir_prefix.size() - 1));
  if (!in_record_area(dir_prefix) && !marker) return visit_entry(dir_prefix, entry);
  VisitDecision d;
  switch (entry.kind) {
    case ListingKind::file:
      d.visit = Visit::record;
      d.path = child_key(dir_prefix, entry.name);
      return d;
    case ListingKind::directory:
      d.visit = Visit::descend;
      d.path = child_dir_prefix(dir_prefix, entry.name);
      return d;
    case ListingKind::other:
      d.visit = Visit::skip_other;
      d.path = child_key(dir_prefix, entry.name);
      return d;
  }
  return d;  // unreachable: every kind is handled above
}

// Returns whether f is a file no record or intent needs.
[[nodiscard]] constexpr bool is_orphan(GcFile f) {
  return f != GcFile::named && f != GcFile::staging_held;
}

// What gc does with one listed file.
enum class GcAction {
  keep,       // a file something needs
  too_young,  // an orphan younger than the grace period (or of unknown age): kept for now
  remove,     // an orphan older than the grace period: delete it
};

// Returns the volume's time now: the Date field of its answer (an HTTP date) when it has one
// that parses, else local_now (seconds since the epoch).
[[nodiscard]] inline std::int64_t volume_now(std::string_view date_field, std::int64_t local_now) {
  if (date_field.empty()) return local_now;
  return parse_http_date(date_field).value_or(local_now);
}

// Returns the seconds since mtime at now (both by the volume's clock), or nullopt when mtime is
// unknown (0) or later than now.
[[nodiscard]] constexpr std::optional<std::int64_t> file_age(std::int64_t mtime,
                                                            std::int64_t now) {
  if (mtime <= 0 || mtime > now) return std::nullopt;
  return now - mtime;
}

// Returns what to do with a file that is f and age seconds old (nullopt: unknown), when
// orphans younger than grace seconds are kept: an orphan is removed once its age reaches grace.
[[nodiscard]] constexpr GcAction decide_gc(GcFile f, std::optional<std::int64_t> age,
                                           std::int64_t grace) {
  if (!is_orphan(f)) return GcAction::keep;
  if (!age || *age < grace) return GcAction::too_young;
  return GcAction::remove;
}

// What a gc found and did, counted over every volume.
struct GcSummary {
  std::uint64_t volumes = 0;        // volumes configured
  std::uint64_t volumes_done = 0;   // volumes walked to the end, or given up as unreadable
  std::uint64_t unreadable = 0;     // volumes given up: a listing failed
  std::uint64_t directories = 0;    // directories listed (staging directories included)
  std::uint64_t files = 0;          // files seen
  std::uint64_t too_young = 0;      // orphans kept because they are younger than the grace
  std::uint64_t orphans = 0;        // orphans old enough to delete
  std::uint64_t orphan_bytes = 0;   // their size
  std::uint64_t staging = 0;        // of the orphans: stale staging files
  std::uint64_t reclaimed = 0;      // orphans found named again when re-checked: kept
  std::uint64_t deleted = 0;        // orphans deleted (or, in a dry run, listed)
  std::uint64_t bytes_freed = 0;    // their size
  std::uint64_t failures = 0;       // deletes that failed, index reads that failed
  double seconds = 0;               // since the gc began

  friend bool operator==(const GcSummary&, const GcSummary&) = default;
};

// Returns whether the gc did all it set out to do: every volume read to the end and every
// orphan deleted (or, in a dry run, listed) or found needed after all.
[[nodiscard]] constexpr bool gc_complete(const GcSummary& s) {
  return s.unreadable == 0 && s.failures == 0 && s.deleted + s.reclaimed == s.orphans;
}

// Returns the line a dry run prints for an orphan it would delete:
// "would delete URL (N bytes, age S s): why".
[[nodiscard]] inline std::string format_gc_would_delete(std::string_view url, std::uint64_t size,
                                                        std::int64_t age, GcFile why) {
  return "would delete " + std::string(url) + " (" + std::to_string(size) + " bytes, age " +
         std::to_string(age) + " s): " + std::string(gc_file_name(why));
}

// Returns the one-line progress report of a gc, without a trailing newline, e.g.
// "gc: 1/3 volumes walked, 152 directories, 30000 files, 12 orphans, 10 deleted (1.2 MiB),
// 0 failed".
[[nodiscard]] inline std::string format_gc_progress(const GcSummary& s, bool dry_run) {
  return "gc: " + std::to_string(s.volumes_done) + '/' + std::to_string(s.volumes) +
         " volumes walked, " + std::to_string(s.directories) + " directories, " +
         std::to_string(s.files) + " files, " + std::to_string(s.orphans) + " orphans, " +
         std::to_string(s.deleted) + (dry_run ? " to delete (" : " deleted (") +
         format_bytes(s.bytes_freed) + "), " + std::to_string(s.failures) + " failed";
}

// Returns the multi-line report printed when a gc ends (each line ends in '\n'); grace is the
// grace period in seconds.
[[nodiscard]] inline std::string format_gc_summary(const GcSummary& s, std::int64_t grace,
                                                   bool dry_run) {
  std::string out = std::string(dry_run ? "gc dry run: " : "gc: ") + "walked " +
                    std::to_string(s.volumes_done - s.unreadable) + '/' +
                    std::to_string(s.volumes) + " volumes, " + std::to_string(s.directories) +
                    " directories, " + std::to_string(s.files) + " files in " +
                    format_duration(s.seconds) + " (" + format_rate(s.files, s.seconds) +
                    " files/s)\n";
  out += "  orphans older than " + std::to_string(grace) + " s: " + std::to_string(s.orphans) +
         " (" + format_bytes(s.orphan_bytes) + "), of which stale staging files: " +
         std::to_string(s.staging) + '\n';
  out += "  orphans younger than " + std::to_string(grace) + " s (kept): " +
         std::to_string(s.too_young) + '\n';
  if (s.reclaimed > 0) {
    out += "  written again while collected (kept): " + std::to_string(s.reclaimed) + '\n';
  }
  out += std::string(dry_run ? "  would delete: " : "  deleted: ") + std::to_string(s.deleted) +
         " (" + format_bytes(s.bytes_freed) + (dry_run ? " would be freed)\n" : " freed)\n");
  out += "  failed: " + std::to_string(s.failures) + '\n';
  if (s.unreadable > 0) {
    out += "  volumes not read to the end: " + std::to_string(s.unreadable) + '\n';
  }
  if (dry_run) {
    out += "nothing was deleted\n";
  } else if (gc_complete(s)) {
    out += "every orphan older than the grace period is gone\n";
  } else {
    out += "some orphans are left; run gc again once the volumes answer\n";
  }
  return out;
}

}  // namespace mkv
