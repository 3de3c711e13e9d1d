// The PostgreSQL index backend: the key → Record map in a PostgreSQL database that any number
// of mkv servers share (schema: pg_schema.h). location is a libpq connection string or URI,
// e.g. postgresql://mkv@db1,db2/mkv?target_session_attrs=read-write.
#pragma once

#include "pg_handles.h"

#include <boost/asio/awaitable.hpp>

#include "mkv/error.h"
#include "mkv/index.h"
#include "mkv/record.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// An index stored in PostgreSQL. One connection writes (apply() sends a whole batch as one
// pipelined transaction: one round trip per few hundred writes); reads check a connection out
// of a pool, so they run in parallel with each other and with apply(). A lost connection is
// dropped and the next call connects again (libpq's multi-host strings then find the new
// primary after a failover). Move-only.
class PostgresIndex {
 public:
  // Shared ownership: while any holds the index as `serve`, no other role may claim it, and
  // any number of `serve` processes may hold it at once; every other role (rebuild, rebalance,
  // verify, gc run offline) holds it alone. A PostgreSQL session advisory lock, so a process
  // that dies releases it with its connection.
  class Ownership {
   public:
    explicit Ownership(pg::Connection conn, std::string conninfo = {}, std::string role = {})
        : conn_(std::move(conn)), conninfo_(std::move(conninfo)), role_(std::move(role)) {}

   private:
    friend class PostgresIndex;
    pg::Connection conn_;
    std::string conninfo_;  // where to claim the index again (keep_claim); "" for a job lock
    std::string role_;
    std::string identity_;  // the name taken on this session (take_identity), if any
  };

  static Result<PostgresIndex> open(const std::string& conninfo);
  // Returns whether the database at conninfo holds an mkv index (false also when it cannot be
  // reached).
  static bool exists(const std::string& conninfo);
  static Result<Ownership> claim(const std::string& conninfo, std::string_view role);
  // What keep_claim found.
  struct ClaimKept {
    bool taken_again = false;  // the claim's session was gone, and a new one claimed the index
    std::string lost;          // if not empty, why the claim cannot be taken again: another
                               // process claimed the index meanwhile
  };
  // Checks (one round trip) that owner's session still holds its claim. A session lost with
  // the database (a restart, or a failover to a standby, which never had the primary's locks)
  // took the claim with it: then a new session claims the index again, with owner's identity
  // (its earlier leases are this process's own, so they stay). An error if the database cannot
  // be reached (the next call tries again).
  static Result<ClaimKept> keep_claim(Ownership& owner);
  // Creates the schema mkv_rebuild afresh (dropping what an earlier attempt left) and returns
  // an index writing into it.
  static Result<PostgresIndex> open_replacement(const std::string& conninfo);
  // Drops the live schema and renames mkv_rebuild in its place, in one transaction.
  static Result<void> replace(const std::string& conninfo, PostgresIndex&& replacement);
  static Result<void> discard_replacement(const std::string& conninfo);

  PostgresIndex(PostgresIndex&&) noexcept;
  PostgresIndex& operator=(PostgresIndex&&) noexcept;
  ~PostgresIndex();

  Result<std::optional<Record>> get(std::string_view key);
  Result<std::vector<std::string>> list(std::string_view prefix, std::string_view start,
                                        std::size_t limit);
  Result<std::vector<Entry>> scan(std::string_view start, std::size_t limit);
  Result<std::vector<Applied>> apply(std::span<const Write> batch);
  Result<std::vector<Intent>> intents();
  Result<std::vector<std::string>> repairs(std::string_view start, std::size_t limit);
  Result<std::uint64_t> count();

  Result<std::optional<std::string>> read_journal(std::string_view name);
  Result<void> write_journal(std::string_view name, std::string_view text);
  Result<void> remove_journal(std::string_view name);

  // ---- From a server's coroutines: the same reads, and the cross-server key locks, without
  // blocking the thread (libpq's asynchronous calls, awaited on the caller's executor). At
  // most reader_sessions connections are open for them; more readers wait for one.
  static constexpr std::size_t reader_sessions = 32;
  boost::asio::awaitable<Result<std::optional<Record>>> async_get(std::string_view key);
  boost::asio::awaitable<Result<std::vector<std::string>>> async_list(std::string_view prefix,
                                                                      std::string_view start,
                                                                      std::size_t limit);
  boost::asio::awaitable<Result<std::vector<Entry>>> async_scan(std::string_view start,
                                                                std::size_t limit);

  // A key's lease: the lock that serializes writes to one key across every server sharing the
  // database, held while the volumes are written (no transaction stays open meanwhile). It
  // lasts lease_time unless renewed, so a server that dies never blocks a key for longer.
  static constexpr std::chrono::milliseconds lease_time{30000};
  // Returns a token for one holding of a lease: this index's server id and a counter.
  std::string lease_token();
  // Takes key's lease for token if no other server holds it; false if another does.
  boost::asio::awaitable<Result<bool>> take_lease(std::string_view key, std::string_view token);
  // Gives up key's lease if token still holds it.
  boost::asio::awaitable<Result<void>> drop_lease(std::string_view key, std::string_view token);
  // Extends every lease this index's tokens hold by lease_time.
  boost::asio::awaitable<Result<void>> renew_leases();
  // Returns a key whose lease is live and which collides with key as a path (a parent of it,
  // or a key below it), if any.
  boost::asio::awaitable<Result<std::optional<std::string>>> leased_relative(std::string_view key);

  // Makes name (a serve's host and listening address, which no other live process can share)
  // this index's identity for as long as owner's session lives, if no live session holds it:
  // the leases and commit marks of an earlier process by that name are then known dead and
  // are dropped, so a server restarted after a crash writes its keys again at once instead of
  // after lease_time. Returns false (the index keeps an identity of its own) if another
  // session holds the name. Call before the first lease is taken.
  Result<bool> take_identity(Ownership& owner, std::string_view name);

  // Returns whether another server holds a live lease (so it may be writing a key's volumes).
  boost::asio::awaitable<Result<bool>> others_leasing();

  // Takes the lock that lets one online job (verify, rebalance, gc) run at a time among the
  // servers sharing the database, held until the returned handle is destroyed; nullopt if
  // another server holds it.
  boost::asio::awaitable<Result<std::optional<Ownership>>> try_job_lock();

  // Returns how messages name the database at conninfo: "PostgreSQL host:port/database", never
  // a password.
  static std::string describe(const std::string& conninfo);

  // The connection string this index was opened with.
  const std::string& conninfo() const;

  struct State;

 private:
  // Finds out whether the batch whose connection broke (lost: the error then) committed, by its
  // mark token; returns the batch's outcomes if it did, else lost.
  Result<std::vector<Applied>> settle_lost_commit(const std::string& token,
                                                  std::span<const Write> batch, const Error& lost);
  // Returns an index whose sessions use schema (the live one, or rebuild's replacement).
  static Result<PostgresIndex> open_schema(const std::string& conninfo, const std::string& schema);
  explicit PostgresIndex(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

static_assert(Index<PostgresIndex>);

}  // namespace mkv
