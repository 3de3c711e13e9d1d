// The rebalance journal: how the moves of a plan (rebalance_plan.h) are carried out so that no
// value is lost and no copy is left over, whatever moment the run is killed at.
//
// Rebalance runs while no server writes to the index. It scans the index a page at a time, and
// for each page:
//
//   1. moves = plan_rebalance(page); skip the page if there are none;
//   2. durably write the journal, encode_journal(journal_entries(moves)), next to the index;
//   3. copy each move's blob from its first source that answers to every volume of copy_to;
//   4. in one index transaction, write `after` for the moves whose copies all succeeded, each
//      on the condition that the key still holds `before` (Expected::record);
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
#include "mkv/rebalance_plan.h"
#include "mkv/record.h"

#include <boost/json.hpp>

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

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

// Stores e in v as the object {"key":...,"before":[...],"after":[...]} (Boost.JSON's
// value_from finds it by argument-dependent lookup).
inline void tag_invoke(boost::json::value_from_tag, boost::json::value& v, const JournalEntry& e) {
  v = {{"key", e.key},
       {"before", boost::json::value_from(e.before)},
       {"after", boost::json::value_from(e.after)}};
}

// Returns the journal text of entries: one JSON object per line, each ending in '\n', e.g.
// {"key":"a/b","before":["http://v1"],"after":["http://v2"]}.
[[nodiscard]] inline std::string encode_journal(std::span<const JournalEntry> entries) {
  std::string out;
  for (const auto& e : entries) {
    out += boost::json::serialize(boost::json::value_from(e));
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
      auto volumes = boost::json::try_value_to<std::vector<std::string>>(*array);
      if (!volumes) return fail('"' + std::string(field) + "\" holds a non-string");
      *list = std::move(*volumes);
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
