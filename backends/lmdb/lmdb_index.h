// The LMDB index backend: the key → Record map in one memory-mapped LMDB file.
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

// An index stored in LMDB. Reads run in their own short read-only transactions, in parallel
// with each other and with apply(). Move-only; the environment closes when destroyed.
class LmdbIndex {
 public:
  // The map size a new index starts with; it doubles whenever a write finds it full.
  static constexpr std::size_t default_map_bytes = std::size_t{1} << 30;

  // Opens the index in the file at path (LMDB's lock table goes in path + "-lock"), creating
  // both if missing. Fails if the file is not an LMDB environment or holds another format.
  static Result<LmdbIndex> open(const std::string& path);
  // As open(path), starting a new map at initial_map_bytes (tests use a small map to make
  // it grow).
  static Result<LmdbIndex> open(const std::string& path, std::size_t initial_map_bytes);

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
  // Applies every write of batch, in order, in one transaction that is on disk when this
  // returns successfully; on failure nothing of batch is applied. Empty keys are refused.
  Result<void> apply(std::span<const Write> batch);

 private:
  struct State;
  explicit LmdbIndex(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

static_assert(Index<LmdbIndex>);

}  // namespace mkv
