// The index record of one key, the writes that change the index (with the condition a
// compare-and-set write puts on the key's current record, and the intents of overwrites), and
// the on-disk JSON encoding of a record's volume list.
#pragma once

#include "mkv/checksum.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

// Where a key's blob lives, how big it is, its MD5, when it was written and what was stored
// with it. volumes are volume
// URLs in placement order: volumes[0] is the one a GET redirects to.
struct Record {
  std::vector<std::string> volumes;
  std::uint64_t size = 0;
  std::optional<Md5> md5 = std::nullopt;  // nullopt: unknown (written before checksums, or
                                          // rebuilt from copies nobody has verified)
  std::int64_t modified = 0;              // when it was written, seconds since the epoch
  // What was stored with the blob besides its bytes (an S3 object's Content-Type and
  // x-amz-meta-* headers), as the text mkv/object_meta.h encodes; empty for none. The index
  // keeps it as it is.
  std::string meta = {};

  friend bool operator==(const Record&, const Record&) = default;
};

// A key together with its record, as listed by an index scan.
struct Entry {
  std::string key;
  Record record;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// What a write requires of the key's current record before it applies: nothing, that the key
// is absent, or that it holds exactly a given record (compare-and-set).
class Expected {
 public:
  // Returns the condition that always holds.
  [[nodiscard]] static Expected anything() { return Expected(Kind::anything, {}); }
  // Returns the condition that the key is not indexed.
  [[nodiscard]] static Expected absent() { return Expected(Kind::absent, {}); }
  // Returns the condition that the key holds exactly record.
  [[nodiscard]] static Expected record(Record record) {
    return Expected(Kind::record, std::move(record));
  }
  // Returns the condition that the key still holds what a read returned (absent for nullopt).
  [[nodiscard]] static Expected current(const std::optional<Record>& read) {
    return read ? record(*read) : absent();
  }

  // Returns whether the condition holds for the key's current record (nullopt: not indexed).
  [[nodiscard]] bool holds(const std::optional<Record>& current) const {
    switch (kind_) {
      case Kind::anything: return true;
      case Kind::absent: return !current;
      case Kind::record: return current && *current == record_;
    }
    return false;  // unreachable: every kind is handled above
  }

  // What the condition requires, for a backend that evaluates it in its own query language.
  enum class Kind { anything, absent, record };
  [[nodiscard]] Kind kind() const { return kind_; }
  // The record a Kind::record condition requires (empty for the other kinds).
  [[nodiscard]] const Record& required() const { return record_; }

  friend bool operator==(const Expected&, const Expected&) = default;

 private:
  Expected(Kind kind, Record record) : kind_(kind), record_(std::move(record)) {}

  Kind kind_;
  Record record_;
};

// An overwrite whose new record is committed while its staged copies may not all be moved onto
// the key yet. It is recorded in the same transaction as the record and removed once the moves
// are settled; `serve` finishes the intents it finds at start-up (a crash between the commit
// and the moves), so the replicas agree again without a rebuild.
struct Intent {
  std::string token;                 // the staging file's name on each volume
  std::string key;
  std::vector<std::string> volumes;  // the volumes the body was staged on, in record order
  Record previous;                   // the key's record before the overwrite (to revert to)

  friend bool operator==(const Intent&, const Intent&) = default;
};

// What a write does to its key's repair mark. A key is marked when its record names copies off
// its placement or fewer than r of them (a PUT that fell back to other volumes, an overwrite
// some volumes did not take): the index keeps the marked keys so that they are found again
// without reading every record, and repair clears the mark once the copies are in place.
enum class RepairMark {
  keep,   // leave the mark as it is
  set,    // mark the key
  clear,  // remove its mark
};

// One change to the index: store record under key, or remove key when record is empty; applied
// only when expected holds for the key's record at that moment. With it, in its transaction,
// an intent may begin (be recorded) or end (be removed, by token), and the key's repair mark
// change.
struct Write {
  std::string key;
  std::optional<Record> record;
  Expected expected = Expected::anything();
  std::optional<Intent> begin_intent = std::nullopt;
  std::optional<std::string> end_intent = std::nullopt;
  RepairMark repair = RepairMark::keep;
};

// What became of one write of a batch. A failed condition is an outcome, not an error: the
// other writes of the batch still apply.
enum class Applied {
  written,           // the write is in the index
  condition_failed,  // the key's record was not the expected one; nothing changed for it
};

// Returns the JSON array text for a volume list, e.g. ["http://a:1","http://b:2"].
[[nodiscard]] inline std::string encode_volumes(const std::vector<std::string>& volumes) {
  return boost::json::serialize(boost::json::value_from(volumes));
}

// Returns the volume list encoded by encode_volumes, or nullopt if text is not a JSON array
// of strings.
[[nodiscard]] inline std::optional<std::vector<std::string>> parse_volumes(std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec) return std::nullopt;
  auto volumes = boost::json::try_value_to<std::vector<std::string>>(value);
  if (!volumes) return std::nullopt;
  return std::move(*volumes);
}

}  // namespace mkv
