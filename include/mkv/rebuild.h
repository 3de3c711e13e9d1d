// Rebuild decisions: turning the copies a walk of every volume found into index records, and how
// each rebuilt record stands against its placement. (What rebuild prints is rebuild_report.h.)
//
// A key's record lists the volumes holding a copy, ordered by the key's ranking
// (order_by_ranking in placement.h), so volumes[0] is the copy a GET redirects to.
//
// Copies that disagree on size hold different values (mkv keeps no checksums, so equal sizes
// are taken to be equal values). The copy on the highest-ranked volume wins: it is the one a
// GET served while the index was intact. The record lists only the copies of that size; the
// others are reported as discarded and left on their volumes, where a later rebalance
// overwrites them if they sit on a placement volume.
//
// Merging is per sighting and does not depend on the order sightings arrive in, so the IO side
// may aggregate however suits its size: all in memory (rebuild_index), by sorting
// (key, volume, size) triples and calling rebuild_key per run of one key, or by folding each
// sighting into the record being built with merge_sighting.
#pragma once

#include "mkv/conditions.h"
#include "mkv/error.h"
#include "mkv/placement.h"
#include "mkv/record.h"
#include "mkv/volume_answer.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

// One copy of a key found on a volume: the volume's URL, the file's size and its time.
struct Sighting {
  std::string volume;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // the file's last change, seconds since the epoch (0: unknown)

  friend bool operator==(const Sighting&, const Sighting&) = default;
};

// Returns the copy of a key that a volume's answer to a GET of it by name shows (a bucket marker,
// which no listing shows: autoindex.h, marker_probe): on 200, a copy of size bytes (the body's
// length) whose time is the answer's Last-Modified field (0 when it has none that parses); on
// 404, nullopt (no copy there); any other status fails with volume_request_failed naming it.
[[nodiscard]] inline Result<std::optional<Sighting>> probed_copy(std::string volume,
                                                                 unsigned status,
                                                                 std::uint64_t size,
                                                                 std::string_view last_modified) {
  switch (classify_answer(VolumeVerb::get, status)) {
    case Answer::done:
      return std::optional<Sighting>(
          Sighting{std::move(volume), size, parse_http_date(last_modified).value_or(0)});
    case Answer::absent: return std::optional<Sighting>();
    case Answer::failed: break;
  }
  return Error::volume_request_failed("answered " + std::to_string(status));
}

// A key being gathered: the record built so far (no volumes before the first sighting) and the
// copies left out of it because their size disagrees with the record's.
struct KeyCopies {
  Record record;
  std::vector<Sighting> discarded;

  friend bool operator==(const KeyCopies&, const KeyCopies&) = default;
};

namespace detail {

// Returns the position of volume in key's ranking among volumes; volumes not configured rank
// after every configured one.
inline std::size_t ranking_position(std::span<const std::size_t> order,
                                    std::span<const std::string> volumes,
                                    std::string_view volume) {
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (volumes[order[i]] == volume) return i;
  }
  return order.size();
}

}  // namespace detail

// Returns so_far with the sighting s of key added: a copy of the record's size joins the record
// in ranking order among volumes; a copy of another size is discarded, unless it ranks above
// every recorded copy: then it decides the size, and the record becomes the copies of its size
// (the others are discarded). A second sighting on a volume already seen is ignored. The
// record's write time is the latest time of its copies. The outcome does not depend on the
// order of sightings on configured volumes; between unconfigured ones the earlier sighting
// wins. Rebuilt records have no checksum: nginx does not list one.
[[nodiscard]] inline KeyCopies merge_sighting(KeyCopies so_far, std::string_view key,
                                              Sighting s, std::span<const std::string> volumes) {
  auto& recorded = so_far.record.volumes;
  const bool seen =
      std::find(recorded.begin(), recorded.end(), s.volume) != recorded.end() ||
      std::any_of(so_far.discarded.begin(), so_far.discarded.end(),
                  [&](const Sighting& d) { return d.volume == s.volume; });
  if (seen) return so_far;

  if (recorded.empty()) {
    recorded.push_back(std::move(s.volume));
    so_far.record.size = s.size;
    so_far.record.modified = s.mtime;
    return so_far;
  }
  if (s.size == so_far.record.size) {
    so_far.record.modified = std::max(so_far.record.modified, s.mtime);
    recorded.push_back(std::move(s.volume));
    recorded = order_by_ranking(key, volumes, std::move(recorded));
    return so_far;
  }
  const auto order = rank_volumes(key, volumes);
  const bool outranks = detail::ranking_position(order, volumes, s.volume) <
                        detail::ranking_position(order, volumes, recorded.front());
  if (!outranks) {
    so_far.discarded.push_back(std::move(s));
    return so_far;
  }
  // The new top copy decides the size: copies of that size discarded earlier come back.
  std::vector<Sighting> discarded;
  Record record{{std::move(s.volume)}, s.size};
  record.modified = s.mtime;
  for (auto& d : so_far.discarded) {
    if (d.size == record.size) {
      record.modified = std::max(record.modified, d.mtime);
      record.volumes.push_back(std::move(d.volume));
    } else {
      discarded.push_back(std::move(d));
    }
  }
  for (auto& v : recorded) {
    discarded.push_back({std::move(v), so_far.record.size, so_far.record.modified});
  }
  record.volumes = order_by_ranking(key, volumes, std::move(record.volumes));
  return KeyCopies{std::move(record), std::move(discarded)};
}

// How a rebuilt record stands against the key's placement.
struct RecordHealth {
  bool under_replicated = false;  // fewer copies than the replication factor
  bool misplaced = false;         // a copy is on a volume outside the key's placement

  friend bool operator==(const RecordHealth&, const RecordHealth&) = default;
};

// Returns how record stands against key's placement: the first min(replicas, volumes.size())
// volumes of its ranking.
[[nodiscard]] inline RecordHealth assess_record(std::string_view key, const Record& record,
                                                std::span<const std::string> volumes,
                                                std::size_t replicas) {
  const auto order = rank_volumes(key, volumes);
  const std::size_t placed = std::min(replicas, volumes.size());
  RecordHealth health;
  health.under_replicated = record.volumes.size() < replicas;
  for (const auto& v : record.volumes) {
    if (detail::ranking_position(order, volumes, v) >= placed) health.misplaced = true;
  }
  return health;
}

// One key as rebuild decided it: the record to index, how it stands, and the copies left out.
struct RebuiltKey {
  std::string key;
  Record record;
  RecordHealth health;
  std::vector<Sighting> discarded;  // copies whose size disagrees with record.size

  friend bool operator==(const RebuiltKey&, const RebuiltKey&) = default;
};

// Returns true if the key needs an operator's attention: it is under-replicated, misplaced or
// had copies of another size.
[[nodiscard]] inline bool inconsistent(const RebuiltKey& k) {
  return k.health.under_replicated || k.health.misplaced || !k.discarded.empty();
}

// Returns the rebuilt key from every copy of key that was found (at least one), in any order.
[[nodiscard]] inline RebuiltKey rebuild_key(std::string key, std::span<const Sighting> copies,
                                            std::span<const std::string> volumes,
                                            std::size_t replicas) {
  KeyCopies gathered;
  for (const auto& s : copies) gathered = merge_sighting(std::move(gathered), key, s, volumes);
  RebuiltKey k;
  k.health = assess_record(key, gathered.record, volumes, replicas);
  k.key = std::move(key);
  k.record = std::move(gathered.record);
  k.discarded = std::move(gathered.discarded);
  return k;
}

// What a rebuild found, counted over every key.
struct RebuildSummary {
  std::uint64_t keys = 0;              // keys indexed
  std::uint64_t copies = 0;            // copies indexed (discarded ones not included)
  std::uint64_t bytes = 0;             // sum of the indexed keys' sizes, one copy each
  std::uint64_t under_replicated = 0;  // keys with fewer copies than the replication factor
  std::uint64_t misplaced = 0;         // keys with a copy outside their placement
  std::uint64_t size_conflicts = 0;    // keys whose copies disagreed on size
  std::uint64_t skipped = 0;           // listed entries that are not keys (the walk adds these)
  std::uint64_t checksums_kept = 0;    // keys whose checksum the old index gave (same size)

  friend bool operator==(const RebuildSummary&, const RebuildSummary&) = default;
};

// Returns summary with the rebuilt key k counted in.
[[nodiscard]] inline RebuildSummary tally(RebuildSummary summary, const RebuiltKey& k) {
  summary.keys += 1;
  summary.copies += k.record.volumes.size();
  summary.bytes += k.record.size;
  if (k.health.under_replicated) summary.under_replicated += 1;
  if (k.health.misplaced) summary.misplaced += 1;
  if (!k.discarded.empty()) summary.size_conflicts += 1;
  return summary;
}

// The files one volume's walk found: the volume's URL and each file's key and size.
struct VolumeFindings {
  std::string volume;
  std::vector<std::pair<std::string, std::uint64_t>> files;
};

// The whole outcome of rebuild_index.
struct Rebuilt {
  std::vector<Entry> entries;            // every key's record, in ascending key order
  std::vector<RebuiltKey> inconsistent;  // the keys for which inconsistent() holds, in key order
  RebuildSummary summary;
};

// Returns the index rebuilt from what every volume's walk found, holding everything in memory;
// for indexes too large for that, aggregate outside and use rebuild_key and tally.
[[nodiscard]] inline Rebuilt rebuild_index(std::span<const VolumeFindings> findings,
                                           std::span<const std::string> volumes,
                                           std::size_t replicas) {
  std::map<std::string, std::vector<Sighting>> by_key;
  for (const auto& found : findings) {
    for (const auto& [key, size] : found.files) by_key[key].push_back({found.volume, size});
  }
  Rebuilt out;
  out.entries.reserve(by_key.size());
  for (auto& [key, copies] : by_key) {
    RebuiltKey k = rebuild_key(key, copies, volumes, replicas);
    out.summary = tally(out.summary, k);
    out.entries.push_back({k.key, k.record});
    if (inconsistent(k)) out.inconsistent.push_back(std::move(k));
  }
  return out;
}

}  // namespace mkv
