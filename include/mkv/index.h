// The contract every index backend meets: a sorted map from key to Record.
#pragma once

#include "mkv/error.h"
#include "mkv/record.h"

#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// An index backend. Keys compare as unsigned bytes (memcmp order).
//
// Threads: get(), list() and scan() may be called concurrently from any number of threads,
// also while apply() runs; apply() is called by one thread at a time. Every failure of the
// underlying store is reported as Error::database(detail), never thrown.
//
// Besides these members, a backend offers `static Result<Backend> open(const std::string& path)`
// which creates the index if it does not exist.
template <class I>
concept Index = requires(I& index, std::string_view key, std::span<const Write> batch,
                         std::size_t limit) {
  // Returns the record of key, or nullopt if the key is not indexed.
  { index.get(key) } -> std::same_as<Result<std::optional<Record>>>;
  // Returns up to limit keys that start with prefix (the first argument) and are >= start
  // (the second), in ascending order.
  { index.list(key, key, limit) } -> std::same_as<Result<std::vector<std::string>>>;
  // Returns up to limit entries with key >= start, in ascending order.
  { index.scan(key, limit) } -> std::same_as<Result<std::vector<Entry>>>;
  // Applies every write of batch in one durable transaction: all of them or none.
  { index.apply(batch) } -> std::same_as<Result<void>>;
};

}  // namespace mkv
