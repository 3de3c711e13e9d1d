// The SQLite index backend: the key → Record map in one SQLite database file (WAL mode).
#pragma once

#include "mkv/error.h"
#include "mkv/index.h"
#include "mkv/record.h"

#include <cstddef>
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
class SqliteIndex {
 public:
  // Opens the index at path, creating the database file and its table if missing. Fails if
  // the file is not a database or was written by a newer schema version.
  static Result<SqliteIndex> open(const std::string& path);

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
  // Applies every write of batch, in order, in one transaction that is on disk when this
  // returns successfully; on failure nothing of batch is applied. Empty keys are refused.
  Result<void> apply(std::span<const Write> batch);

 private:
  struct State;
  explicit SqliteIndex(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

static_assert(Index<SqliteIndex>);

}  // namespace mkv
