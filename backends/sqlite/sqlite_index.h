// The SQLite index backend: the key → Record map in one SQLite database file (WAL mode), and
// the files around it (owner lock, rebuild's replacement, job journals).
#pragma once

#include "owner_lock.h"

#include "mkv/error.h"
#include "mkv/index.h"
#include "mkv/record.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// An index stored in SQLite. One connection writes; reads check a connection out of a small
// pool, so get(), list() and scan() run in parallel with each other and with apply().
// Move-only; the connections close when the last owner is destroyed.
//
// Files, for an index at path: path itself (the database), path + "-wal" (SQLite's write-ahead
// log, folded into path when the index closes), path + ".lock" (the owner lock), path +
// ".rebuild" (a replacement being written), path + ".NAME-journal" (a job's journal).
class SqliteIndex {
 public:
  using Ownership = local::OwnerLock;

  // Opens the index at path, creating the database file if missing and migrating an older
  // schema version in place. Fails if the file is not a database or has a newer schema.
  static Result<SqliteIndex> open(const std::string& path);
  // Returns whether a file exists at path.
  static bool exists(const std::string& path);
  // Takes the owner lock path + ".lock" for this process, recording role for others to see.
  static Result<Ownership> claim(const std::string& path, std::string_view role);
  // Opens a new, empty index at path + ".rebuild", removing what an earlier attempt left there.
  static Result<SqliteIndex> open_replacement(const std::string& path);
  // Closes replacement and renames it over path. The old index is opened and closed first, so
  // that SQLite folds its write-ahead log into it: a log left beside path would be read as
  // part of the new index.
  static Result<void> replace(const std::string& path, SqliteIndex&& replacement);
  // Removes path + ".rebuild" and its companion files.
  static Result<void> discard_replacement(const std::string& path);

  SqliteIndex(SqliteIndex&&) noexcept;
  SqliteIndex& operator=(SqliteIndex&&) noexcept;
  ~SqliteIndex();

  // Returns the record of key, or nullopt if the key is not indexed.
  Result<std::optional<Record>> get(std::string_view key);
  // Returns up to limit keys that start with prefix and are >= start, in ascending byte order.
  Result<std::vector<std::string>> list(std::string_view prefix, std::string_view start,
                                        std::size_t limit);
  // Returns up to limit entries with key >= start, in ascending byte order.
  Result<std::vector<Entry>> scan(std::string_view start, std::size_t limit);
  // Applies the writes of batch in order, each whose condition holds, in one transaction that
  // is on disk when this returns successfully; on failure nothing of batch is applied. Empty
  // keys are refused.
  Result<std::vector<Applied>> apply(std::span<const Write> batch);
  // Returns every intent recorded and not yet ended, in token order.
  Result<std::vector<Intent>> intents();
  // Returns up to limit keys marked for repair that are >= start, in ascending order.
  Result<std::vector<std::string>> repairs(std::string_view start, std::size_t limit);
  // Returns the number of keys, as every write transaction keeps it.
  Result<std::uint64_t> count();

  // The journal called name: path + "." + name + "-journal".
  Result<std::optional<std::string>> read_journal(std::string_view name);
  Result<void> write_journal(std::string_view name, std::string_view text);
  Result<void> remove_journal(std::string_view name);

 private:
  struct State;
  explicit SqliteIndex(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

static_assert(Index<SqliteIndex>);

}  // namespace mkv
