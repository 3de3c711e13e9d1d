// The LMDB index backend: the key → Record map in one memory-mapped LMDB file, and the files
// around it (owner lock, rebuild's replacement, job journals).
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

// An index stored in LMDB. Reads run in their own short read-only transactions, in parallel
// with each other and with apply(). Move-only; the environment closes when destroyed.
//
// Files, for an index at path: path itself (the environment, MDB_NOSUBDIR), path + "-lock"
// (LMDB's reader table), path + ".lock" (the owner lock), path + ".rebuild" (a replacement
// being written, with its "-lock"), path + ".NAME-journal" (a job's journal).
class LmdbIndex {
 public:
  using Ownership = local::OwnerLock;

  // The map size a new index starts with; it doubles whenever a write finds it full.
  static constexpr std::size_t default_map_bytes = std::size_t{1} << 30;

  // Opens the index in the file at path, creating it if missing and upgrading an older format
  // version in place. Fails if the file is not an LMDB environment or holds another format.
  static Result<LmdbIndex> open(const std::string& path);
  // As open(path), starting a new map at initial_map_bytes (tests use a small map to make
  // it grow).
  static Result<LmdbIndex> open(const std::string& path, std::size_t initial_map_bytes);
  // Returns whether a file exists at path.
  static bool exists(const std::string& path);
  // Takes the owner lock path + ".lock" for this process, recording role for others to see.
  static Result<Ownership> claim(const std::string& path, std::string_view role);
  // Opens a new, empty index at path + ".rebuild", removing what an earlier attempt left there.
  static Result<LmdbIndex> open_replacement(const std::string& path);
  // Closes replacement and renames it over path.
  static Result<void> replace(const std::string& path, LmdbIndex&& replacement);
  // Removes path + ".rebuild" and its lock file.
  static Result<void> discard_replacement(const std::string& path);

  LmdbIndex(LmdbIndex&&) noexcept;
  LmdbIndex& operator=(LmdbIndex&&) noexcept;
  ~LmdbIndex();

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
  explicit LmdbIndex(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

static_assert(Index<LmdbIndex>);

}  // namespace mkv
