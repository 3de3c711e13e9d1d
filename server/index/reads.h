// Index reads from a server's coroutines. An index in a database server (PostgreSQL) is read
// with its asynchronous client, so a request waiting on the database never blocks an IO thread;
// an index in local files is read in place, which takes microseconds (pages in the cache).
#pragma once

#include "asio.h"
#include "backend.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// An index read asynchronously (its backend has its own asynchronous client).
template <class I>
concept AsyncIndex = requires(I& index, std::string_view key) { index.async_get(key); };

// (Templates, so that only the branch for the configured backend is compiled.)

// Returns the record of key, or nullopt if it is not indexed.
template <class I>
net::awaitable<Result<std::optional<Record>>> read_record(I& index, std::string_view key) {
  if constexpr (!AsyncIndex<I>) {
    co_return index.get(key);
  } else {
    co_return co_await index.async_get(key);
  }
}

// Returns up to limit keys that start with prefix and are >= start, in order.
template <class I>
net::awaitable<Result<std::vector<std::string>>> read_keys(I& index, std::string_view prefix,
                                                           std::string_view start,
                                                           std::size_t limit) {
  if constexpr (!AsyncIndex<I>) {
    co_return index.list(prefix, start, limit);
  } else {
    co_return co_await index.async_list(prefix, start, limit);
  }
}

// Returns up to limit entries with key >= start, in order.
template <class I>
net::awaitable<Result<std::vector<Entry>>> read_entries(I& index, std::string_view start,
                                                        std::size_t limit) {
  if constexpr (!AsyncIndex<I>) {
    co_return index.scan(start, limit);
  } else {
    co_return co_await index.async_scan(start, limit);
  }
}

}  // namespace mkv
