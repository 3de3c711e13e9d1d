// Rebalance planning: which keys must move after the set of volumes or the replication factor
// changes, how each one moves, and what a plan amounts to.
//
// A key is placed when its record lists exactly its placement (placement.h) in ranking order.
// Every other key with at least one copy gets a Move. A Move with nothing to copy or delete only
// rewrites the index: the right copies exist in the wrong order, so GETs would redirect to a
// volume other than the first of the ranking. How a plan is carried out safely, and finished
// after a crash, is rebalance_journal.h.
#pragma once

#include "mkv/error.h"
#include "mkv/placement.h"
#include "mkv/record.h"

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

// The work that puts one key on its placement.
struct Move {
  std::string key;
  Record before;                         // the record the move was planned from
  Record after;                          // the record to write once every copy is made
  std::vector<std::string> sources;      // volumes of before to copy from, best first
  std::vector<std::string> copy_to;      // volumes of after that before does not list
  std::vector<std::string> remove_from;  // volumes of before not in after: deleted once after
                                         // is indexed

  friend bool operator==(const Move&, const Move&) = default;
};

// Returns true if m copies and deletes nothing and only rewrites the index.
[[nodiscard]] inline bool index_only(const Move& m) {
  return m.copy_to.empty() && m.remove_from.empty();
}

namespace detail {

inline bool contains(std::span<const std::string> list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace detail

// Returns the move that puts entry on its placement among volumes (the first `replicas` of its
// ranking, or all volumes when there are fewer), or nullopt when its record already lists
// exactly that placement in ranking order, lists no volume at all (nothing to copy from), or
// replicas is 0. Sources are the recorded volumes that stay, in ranking order, then the ones
// that leave, in recorded order.
[[nodiscard]] inline std::optional<Move> plan_move(const Entry& entry,
                                                   std::span<const std::string> volumes,
                                                   std::size_t replicas) {
  const Record& before = entry.record;
  const std::size_t placed = std::min(replicas, volumes.size());
  if (before.volumes.empty() || placed == 0) return std::nullopt;

  const auto order = rank_volumes(entry.key, volumes);
  Record after = before;  // the same blob: size, checksum and write time go along
  after.volumes.clear();
  for (std::size_t i = 0; i < placed; ++i) after.volumes.push_back(volumes[order[i]]);
  if (after.volumes == before.volumes) return std::nullopt;

  Move m;
  m.key = entry.key;
  for (const auto& v : after.volumes) {
    if (detail::contains(before.volumes, v)) {
      m.sources.push_back(v);
    } else {
      m.copy_to.push_back(v);
    }
  }
  for (const auto& v : before.volumes) {
    if (!detail::contains(after.volumes, v) && !detail::contains(m.remove_from, v)) {
      m.sources.push_back(v);
      m.remove_from.push_back(v);
    }
  }
  m.before = before;
  m.after = std::move(after);
  return m;
}

// Returns the moves for one page of index entries (in their order), or not_enough_volumes if
// fewer volumes than replicas are configured. Entries are planned independently, so pages of
// any size may be planned one after another.
[[nodiscard]] inline Result<std::vector<Move>> plan_rebalance(std::span<const Entry> records,
                                                              std::span<const std::string> volumes,
                                                              std::size_t replicas) {
  if (volumes.size() < replicas) return Error::not_enough_volumes(replicas, volumes.size());
  std::vector<Move> moves;
  for (const auto& entry : records) {
    if (auto m = plan_move(entry, volumes, replicas)) moves.push_back(std::move(*m));
  }
  return moves;
}

// The traffic a plan puts on one volume. A copy is counted against the move's first source.
struct VolumeTraffic {
  std::uint64_t copies_out = 0;  // copies read from it
  std::uint64_t bytes_out = 0;
  std::uint64_t copies_in = 0;   // copies written to it
  std::uint64_t bytes_in = 0;
  std::uint64_t deletes = 0;     // copies deleted from it

  friend bool operator==(const VolumeTraffic&, const VolumeTraffic&) = default;
};

// What a plan amounts to, summed over the pages planned so far.
struct PlanSummary {
  std::uint64_t keys_scanned = 0;  // index entries the plan looked at
  std::uint64_t keys_moving = 0;   // moves that copy or delete
  std::uint64_t index_only = 0;    // moves that only rewrite the index
  std::uint64_t copies = 0;        // copies to make
  std::uint64_t bytes = 0;         // bytes those copies transfer
  std::uint64_t deletes = 0;       // copies to delete
  std::map<std::string, VolumeTraffic> volumes;  // by volume URL; only volumes with traffic

  friend bool operator==(const PlanSummary&, const PlanSummary&) = default;
};

// Returns summary with one planned page counted in: `scanned` entries yielded `moves`.
[[nodiscard]] inline PlanSummary tally_plan(PlanSummary summary, std::size_t scanned,
                                            std::span<const Move> moves) {
  summary.keys_scanned += scanned;
  for (const auto& m : moves) {
    if (index_only(m)) {
      summary.index_only += 1;
      continue;
    }
    summary.keys_moving += 1;
    summary.copies += m.copy_to.size();
    summary.bytes += m.copy_to.size() * m.before.size;
    summary.deletes += m.remove_from.size();
    if (!m.copy_to.empty()) {
      auto& source = summary.volumes[m.sources.front()];
      source.copies_out += m.copy_to.size();
      source.bytes_out += m.copy_to.size() * m.before.size;
    }
    for (const auto& v : m.copy_to) {
      auto& target = summary.volumes[v];
      target.copies_in += 1;
      target.bytes_in += m.before.size;
    }
    for (const auto& v : m.remove_from) summary.volumes[v].deletes += 1;
  }
  return summary;
}

}  // namespace mkv
