// Rebalance decisions: which keys must move after the set of volumes or the replication factor
// changes, what a plan amounts to, the --dry-run report, and how a killed run is finished.
//
// A key is placed when its record lists exactly its placement (placement.h) in ranking order.
// Every other key with at least one copy gets a Move. A Move with nothing to copy or delete only
// rewrites the index: the right copies exist in the wrong order, so GETs would redirect to a
// volume other than the first of the ranking.
//
// Rebalance runs while no server writes to the index. It scans the index a page at a time, and
// for each page:
//
//   1. moves = plan_rebalance(page); skip the page if there are none;
//   2. durably write the journal, encode_journal(journal_entries(moves)), next to the index;
//   3. copy each move's blob from its first source that answers to every volume of copy_to;
//   4. in one index transaction, write `after` for the moves whose copies all succeeded;
//   5. delete every copy of plan_recovery(journal, the index's records of those keys); a
//      delete that finds nothing succeeds;
//   6. remove the journal; if a delete failed, keep it and stop with an error instead.
//
// A run that finds a journal starts with steps 5 and 6 for it. The index alone cannot show a
// copy made in step 3 whose record was never written, nor an old copy that step 5 did not get
// to delete: no record lists either. plan_recovery's one rule finds both: delete every journal
// volume (before or after) that the key's current record does not list. That removes the old
// copies of keys whose index write landed, and the copies made for keys whose write did not
// (their records still list their untouched old copies, and the next plan moves them again).
// A copy the index lists is never deleted, and the index lists a volume only once it holds a
// full copy, so a kill at any point loses no value, and the run after it leaves no extra copy.
#pragma once

#include "mkv/error.h"
#include "mkv/placement.h"
#include "mkv/rebuild.h"  // format_bytes
#include "mkv/record.h"

#include <boost/json.hpp>

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
  Record after;
  after.size = before.size;
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

namespace detail {

inline std::string join(std::span<const std::string> items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

inline std::string pad_left(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

inline std::string pad_right(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace detail

// Returns one line (without '\n') saying what m does, e.g.
// "a/b (1.0 KiB): copy http://v1 -> http://v4; delete http://v3".
[[nodiscard]] inline std::string describe_move(const Move& m) {
  std::string out = m.key + " (" + format_bytes(m.before.size) + "): ";
  if (index_only(m)) return out + "reorder index to " + detail::join(m.after.volumes, ", ");
  if (!m.copy_to.empty()) {
    out += "copy " + m.sources.front() + " -> " + detail::join(m.copy_to, ", ");
  }
  if (!m.remove_from.empty()) {
    if (!m.copy_to.empty()) out += "; ";
    out += "delete " + detail::join(m.remove_from, ", ");
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
    out += detail::pad_right(std::string(label) + ':', 22) +
           detail::pad_left(std::to_string(n), 12) + extra + '\n';
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
    out += '\n' + detail::pad_right("volume", width) + detail::pad_left("copies out", 12) +
           detail::pad_left("copies in", 12) + detail::pad_left("bytes in", 12) +
           detail::pad_left("deletes", 12) + '\n';
    for (const auto& [url, t] : s.volumes) {
      out += detail::pad_right(url, width) + detail::pad_left(std::to_string(t.copies_out), 12) +
             detail::pad_left(std::to_string(t.copies_in), 12) +
             detail::pad_left(format_bytes(t.bytes_in), 12) +
             detail::pad_left(std::to_string(t.deletes), 12) + '\n';
    }
  }
  if (!first_moves.empty()) {
    out += "\nfirst " + std::to_string(first_moves.size()) + " of " + std::to_string(planned) +
           " planned keys:\n";
    for (const auto& m : first_moves) out += "  " + describe_move(m) + '\n';
  }
  return out;
}

// One line of the rebalance journal: a key whose move was started, with the volumes of its
// record before and after the move.
struct JournalEntry {
  std::string key;
  std::vector<std::string> before;
  std::vector<std::string> after;

  friend bool operator==(const JournalEntry&, const JournalEntry&) = default;
};

// Returns the journal entries of a page of moves, in order.
[[nodiscard]] inline std::vector<JournalEntry> journal_entries(std::span<const Move> moves) {
  std::vector<JournalEntry> entries;
  entries.reserve(moves.size());
  for (const auto& m : moves) entries.push_back({m.key, m.before.volumes, m.after.volumes});
  return entries;
}

// Returns the journal text of entries: one JSON object per line, each ending in '\n', e.g.
// {"key":"a/b","before":["http://v1"],"after":["http://v2"]}.
[[nodiscard]] inline std::string encode_journal(std::span<const JournalEntry> entries) {
  std::string out;
  for (const auto& e : entries) {
    boost::json::object line;
    line["key"] = e.key;
    boost::json::array before, after;
    for (const auto& v : e.before) before.emplace_back(v);
    for (const auto& v : e.after) after.emplace_back(v);
    line["before"] = std::move(before);
    line["after"] = std::move(after);
    out += boost::json::serialize(line);
    out.push_back('\n');
  }
  return out;
}

// Returns the entries of a journal written by encode_journal, or database("rebalance journal
// line N: ...") for a line that is not such an object. Blank lines are skipped, and so is a last
// line without its '\n': a write torn by a crash, made before any of its moves began.
[[nodiscard]] inline Result<std::vector<JournalEntry>> parse_journal(std::string_view text) {
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;  // keys are checked when stored, not here
  std::vector<JournalEntry> entries;
  std::size_t number = 0;
  for (std::size_t newline = text.find('\n'); newline != std::string_view::npos;
       newline = text.find('\n')) {
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const auto fail = [&](std::string_view why) {
      return Error::database("rebalance journal line " + std::to_string(number) + ": " +
                             std::string(why));
    };
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(line, ec, {}, options);
    if (ec || !value.is_object()) return fail("not a JSON object");
    const auto& object = value.get_object();
    const auto* key = object.if_contains("key");
    if (key == nullptr || !key->is_string()) return fail("no string \"key\"");
    JournalEntry entry;
    entry.key = std::string(key->get_string());
    for (const auto& [field, list] : {std::pair{"before", &entry.before},
                                      std::pair{"after", &entry.after}}) {
      const auto* array = object.if_contains(field);
      if (array == nullptr || !array->is_array()) {
        return fail("no array \"" + std::string(field) + '"');
      }
      for (const auto& v : array->get_array()) {
        if (!v.is_string()) return fail('"' + std::string(field) + "\" holds a non-string");
        list->emplace_back(v.get_string());
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

// The deletes that finish one journalled key.
struct Cleanup {
  std::string key;
  std::vector<std::string> remove_from;

  friend bool operator==(const Cleanup&, const Cleanup&) = default;
};

// Returns, in journal order, the copies to delete for each journalled key, given the index's
// current records of those keys (a key missing from current is no longer indexed): every
// volume of the entry's before or after that the current record does not list. Keys with
// nothing to delete are left out. Deleting a copy that is not there is not an error.
[[nodiscard]] inline std::vector<Cleanup> plan_recovery(std::span<const JournalEntry> journal,
                                                        std::span<const Entry> current) {
  std::map<std::string_view, const Record*> records;
  for (const auto& e : current) records[e.key] = &e.record;
  std::vector<Cleanup> cleanups;
  for (const auto& entry : journal) {
    const auto found = records.find(entry.key);
    const std::vector<std::string> none;
    const std::vector<std::string>& listed =
        found == records.end() ? none : found->second->volumes;
    Cleanup c{entry.key, {}};
    for (const auto* side : {&entry.before, &entry.after}) {
      for (const auto& v : *side) {
        if (!detail::contains(listed, v) && !detail::contains(c.remove_from, v)) {
          c.remove_from.push_back(v);
        }
      }
    }
    if (!c.remove_from.empty()) cleanups.push_back(std::move(c));
  }
  return cleanups;
}

}  // namespace mkv
