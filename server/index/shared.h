// What a server does differently when other servers share its index (PostgreSQL): key leases
// serialize writes across servers (see key_locks.h), and collide-as-a-path checks see the keys
// other servers are writing. For an index one process owns, each of these is a no-op.
// (Templates, so that only the branch for the configured backend is compiled.)
#pragma once

#include "asio.h"
#include "log.h"

#include "mkv/error.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mkv {

// An index several servers share, with leases on keys.
template <class I>
concept SharedIndex = requires(I& index, std::string_view key) {
  index.take_lease(key, key);
  index.leased_relative(key);
};

// Returns how long a lease lasts unless renewed (0 for an index nobody shares).
template <class I>
std::chrono::milliseconds lease_time() {
  if constexpr (SharedIndex<I>) {
    return I::lease_time;
  } else {
    return std::chrono::milliseconds(0);
  }
}

// Returns a token for one holding of a key's lease ("" for an index nobody shares).
template <class I>
std::string lease_token(I& index) {
  if constexpr (SharedIndex<I>) {
    return index.lease_token();
  } else {
    return {};
  }
}

// Takes key's lease for token unless another server holds it (always true unshared).
template <class I>
net::awaitable<Result<bool>> take_lease(I& index, std::string_view key, std::string_view token) {
  if constexpr (SharedIndex<I>) {
    co_return co_await index.take_lease(key, token);
  } else {
    co_return true;
  }
}

// Gives up key's lease if token still holds it.
template <class I>
net::awaitable<void> drop_lease(I& index, const std::string& key, const std::string& token) {
  if constexpr (SharedIndex<I>) {
    (void)co_await index.drop_lease(key, token);  // if it fails, the lease expires
  }
}

// Extends the leases this server holds.
template <class I>
net::awaitable<Result<void>> renew_leases(I& index) {
  if constexpr (SharedIndex<I>) {
    co_return co_await index.renew_leases();
  } else {
    co_return Result<void>();
  }
}

// Returns a key another server (or this one) is writing that collides with key as a path.
template <class I>
net::awaitable<Result<std::optional<std::string>>> leased_relative(I& index,
                                                                   std::string_view key) {
  if constexpr (SharedIndex<I>) {
    co_return co_await index.leased_relative(key);
  } else {
    co_return std::optional<std::string>();
  }
}

// Names this server name in an index several servers share (see PostgresIndex::take_identity):
// what an earlier process by that name left locked is released. Returns whether the name was
// free (always false unshared, where there is nothing to release).
template <class I, class O>
Result<bool> take_identity(I& index, O& owner, std::string_view name) {
  if constexpr (SharedIndex<I>) {
    return index.take_identity(owner, name);
  } else {
    return false;
  }
}

// Keeps the claim owner holds on an index several servers share from being lost with its
// database session (see PostgresIndex::keep_claim): returns "" while it holds, else why it
// cannot be taken again (then this server must stop). Logs a claim taken again, and a database
// it cannot reach (once until it is reached again; reached says whether the last call did).
// Blocks on the database: call it from a thread of its own. Unshared, the claim is a lock on
// the index's files, held while the process lives: always "".
template <class I, class O>
std::string keep_claim(O& owner, bool& reached) {
  if constexpr (SharedIndex<I>) {
    auto kept = I::keep_claim(owner);
    if (!kept) {
      if (reached)
        log_line("cannot check this server's claim on the index: " + message(kept.error()));
      reached = false;
      return {};
    }
    reached = true;
    if (kept->taken_again) log_line("claimed the index again: its session had been lost");
    return kept->lost;
  } else {
    return {};
  }
}

// Returns whether another server holds a key's lease, so that it may be writing volumes
// (never, unshared).
template <class I>
net::awaitable<Result<bool>> others_writing(I& index) {
  if constexpr (SharedIndex<I>) {
    co_return co_await index.others_leasing();
  } else {
    co_return false;
  }
}

// Returns a handle that, while it lives, keeps every other server sharing the index from
// starting an online job; nullptr if another server runs one. (Always granted unshared: the
// server's own one-job-at-a-time check is enough.)
template <class I>
net::awaitable<Result<std::shared_ptr<void>>> claim_online_job(I& index) {
  if constexpr (SharedIndex<I>) {
    auto lock = co_await index.try_job_lock();
    if (!lock) co_return lock.error();
    if (!*lock) co_return std::shared_ptr<void>();
    co_return std::shared_ptr<void>(std::make_shared<typename I::Ownership>(std::move(**lock)));
  } else {
    co_return std::make_shared<int>(0);
  }
}

}  // namespace mkv
