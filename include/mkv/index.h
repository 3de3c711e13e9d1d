// The contract every index backend meets: a sorted map from key to Record with conditional
// batched writes, and the whole life of the store behind it (who owns it, how rebuild replaces
// it, where jobs keep their journals), so that nothing outside the backend knows its files.
#pragma once

#include "mkv/error.h"
#include "mkv/record.h"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// An index backend. Keys compare as unsigned bytes (memcmp order). `location` names the store
// (a file path for SQLite and LMDB).
//
// Threads: get(), list() and scan() may be called concurrently from any number of threads,
// also while apply() runs; apply() and the journal calls are made by one thread at a time.
// Every failure of the underlying store is reported as Error::database(detail), never thrown.
template <class I>
concept Index = requires(I& index, I&& moved, std::string_view key,
                         std::span<const Write> batch, std::size_t limit,
                         const std::string& location, std::string_view name) {
  // ---- Reading and writing
  // Returns the record of key, or nullopt if the key is not indexed.
  { index.get(key) } -> std::same_as<Result<std::optional<Record>>>;
  // Returns up to limit keys that start with prefix (the first argument) and are >= start
  // (the second), in ascending order.
  { index.list(key, key, limit) } -> std::same_as<Result<std::vector<std::string>>>;
  // Returns up to limit entries with key >= start, in ascending order.
  { index.scan(key, limit) } -> std::same_as<Result<std::vector<Entry>>>;
  // Applies the writes of batch in order, in one durable transaction, each only if its
  // `expected` holds for the key's record at that point (after the batch's earlier writes);
  // returns what became of each. A write whose condition fails changes nothing, its intent
  // included. On an error nothing of batch is applied.
  { index.apply(batch) } -> std::same_as<Result<std::vector<Applied>>>;
  // Returns every intent recorded and not yet ended, in token order.
  { index.intents() } -> std::same_as<Result<std::vector<Intent>>>;
  // Returns up to limit keys marked for repair (Write::repair) that are >= start, in
  // ascending order. A mark outlives its key: repair clears the marks of keys deleted since.
  { index.repairs(key, limit) } -> std::same_as<Result<std::vector<std::string>>>;
  // Returns the number of keys indexed: kept by every write, so it costs a read, not a count.
  { index.count() } -> std::same_as<Result<std::uint64_t>>;

  // ---- Journals: a job's record of the work it has started (text it wrote, kept durably)
  // Returns the journal called name, or nullopt if there is none.
  { index.read_journal(name) } -> std::same_as<Result<std::optional<std::string>>>;
  // Stores text as the journal called name; durable when this returns.
  { index.write_journal(name, name) } -> std::same_as<Result<void>>;
  // Removes the journal called name (not having one is fine).
  { index.remove_journal(name) } -> std::same_as<Result<void>>;

  // ---- The life of the store
  // Opens the index at location, creating it if it does not exist and upgrading an older
  // schema version in place; refuses a newer one.
  { I::open(location) } -> std::same_as<Result<I>>;
  // Returns whether an index exists at location.
  { I::exists(location) } -> std::same_as<bool>;
  // Makes this process the index's one owner (named role in what others are told), until the
  // returned handle is destroyed; fails naming the owner if another process is.
  { I::claim(location, name) } -> std::same_as<Result<typename I::Ownership>>;
  // Returns a new, empty index that will replace the one at location (what rebuild writes),
  // discarding what an earlier unfinished replacement left.
  { I::open_replacement(location) } -> std::same_as<Result<I>>;
  // Closes replacement and puts it in place of the index at location in one step: afterwards
  // location holds either the old index whole or the replacement whole.
  { I::replace(location, std::move(moved)) } -> std::same_as<Result<void>>;
  // Removes what an unfinished replacement of the index at location left.
  { I::discard_replacement(location) } -> std::same_as<Result<void>>;
};

}  // namespace mkv
