// The PostgreSQL index from a server's coroutines: reads and cross-server key leases run
// through libpq's asynchronous calls on the caller's executor (pg_async.h), on sessions of the
// same pool the blocking reads use. Opening a session blocks, so it happens on the index's
// connector thread, never on the caller's.
#include "postgres_index.h"

#include "pg_async.h"
#include "pg_records.h"
#include "pg_schema.h"
#include "postgres_state.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

namespace mkv {

using namespace pg;

namespace {

using Lease = SessionPool::Lease;

// Returns a session for an asynchronous statement: an idle one, or a new one while fewer than
// PostgresIndex::reader_sessions are open, or else the first given back.
net::awaitable<Result<Lease>> session_of(PostgresIndex::State& state) {
  std::chrono::microseconds pause{200};
  for (;;) {
    if (auto idle = state.readers.try_borrow()) co_return std::move(*idle);
    if (state.readers.reserve(PostgresIndex::reader_sessions)) {
      auto conn = co_await net::co_spawn(
          state.connector,
          [&state]() -> net::awaitable<Result<Connection>> {
            co_return open_session(state.readers.conninfo(), state.readers.schema());
          },
          net::use_awaitable);
      if (!conn) {
        (void)state.readers.adopt(Connection());
        co_return conn.error();
      }
      co_return std::move(*state.readers.adopt(std::move(*conn)));
    }
    // Every session is busy: a statement takes about a round trip, so one is back soon.
    net::steady_timer wait(co_await net::this_coro::executor, pause);
    co_await wait.async_wait(net::use_awaitable);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(20));
  }
}

// Runs the prepared statement p on a session and returns its rows.
net::awaitable<Result<Rows>> run(PostgresIndex::State& state, const Prepared& p,
                                 const Params& params) {
  auto session = co_await session_of(state);
  if (!session) co_return session.error();
  co_return co_await async_exec(session->get(), p, params);
}

}  // namespace

net::awaitable<Result<std::optional<Record>>> PostgresIndex::async_get(std::string_view key) {
  Params p;
  p.bytes(key);
  auto rows = co_await run(*state_, get_statement, p);
  if (!rows) co_return rows.error();
  co_return decode_get(rows->get(), key);
}

net::awaitable<Result<std::vector<std::string>>> PostgresIndex::async_list(
    std::string_view prefix, std::string_view start, std::size_t limit) {
  if (limit == 0) co_return std::vector<std::string>();
  const std::optional<std::string> upper = prefix_successor(prefix);
  auto rows = co_await run(*state_, upper ? list_range_statement : list_from_statement,
                           list_params(prefix, start, upper, limit));
  if (!rows) co_return rows.error();
  co_return decode_keys(rows->get());
}

net::awaitable<Result<std::vector<Entry>>> PostgresIndex::async_scan(std::string_view start,
                                                                     std::size_t limit) {
  if (limit == 0) co_return std::vector<Entry>();
  Params p;
  p.bytes(start).integer(row_limit(limit));
  auto rows = co_await run(*state_, scan_statement, p);
  if (!rows) co_return rows.error();
  co_return decode_entries(rows->get());
}

std::string PostgresIndex::lease_token() {
  return state_->server_id + std::to_string(state_->leases_taken.fetch_add(1) + 1);
}

net::awaitable<Result<bool>> PostgresIndex::take_lease(std::string_view key,
                                                       std::string_view token) {
  Params p;
  p.bytes(key).text(token).integer(lease_time.count()).text(state_->server_id);
  auto rows = co_await run(*state_, take_lease_statement, p);
  if (!rows) co_return rows.error();
  co_return PQntuples(rows->get()) == 1;
}

net::awaitable<Result<void>> PostgresIndex::drop_lease(std::string_view key,
                                                       std::string_view token) {
  Params p;
  p.bytes(key).text(token);
  auto rows = co_await run(*state_, drop_lease_statement, p);
  if (!rows) co_return rows.error();
  co_return Result<void>();
}

net::awaitable<Result<void>> PostgresIndex::renew_leases() {
  Params p;
  p.text(state_->server_id).integer(lease_time.count());
  auto rows = co_await run(*state_, renew_leases_statement, p);
  if (!rows) co_return rows.error();
  co_return Result<void>();
}

net::awaitable<Result<std::optional<std::string>>> PostgresIndex::leased_relative(
    std::string_view key) {
  Params p;
  p.bytes(key).text(state_->server_id);
  auto rows = co_await run(*state_, leased_relative_statement, p);
  if (!rows) co_return rows.error();
  if (PQntuples(rows->get()) == 0) co_return std::optional<std::string>();
  co_return std::optional<std::string>(bytes_at(rows->get(), 0, 0));
}

net::awaitable<Result<bool>> PostgresIndex::others_leasing() {
  Params p;
  p.text(state_->server_id);
  auto rows = co_await run(*state_, others_leasing_statement, p);
  if (!rows) co_return rows.error();
  co_return bool_at(rows->get(), 0, 0);
}

net::awaitable<Result<std::optional<PostgresIndex::Ownership>>> PostgresIndex::try_job_lock() {
  // A session lock on a connection of its own, opened on the connector thread (it blocks).
  // (Only a pointer is captured: GCC 12 frees a string captured by a coroutine lambda twice.)
  co_return co_await net::co_spawn(
      state_->connector,
      [state = state_.get()]() -> net::awaitable<Result<std::optional<Ownership>>> {
        auto conn = connect(state->readers.conninfo());
        if (!conn) co_return conn.error();
        Params p;
        p.integer(control_lock_class).integer(job_lock);
        auto taken =
            exec(conn->get(), "take the job lock", "SELECT pg_try_advisory_lock($1::int4, $2::int4)", p);
        if (!taken) co_return taken.error();
        if (!bool_at(taken->get(), 0, 0)) co_return std::optional<Ownership>();
        co_return std::optional<Ownership>(Ownership(std::move(*conn)));
      },
      net::use_awaitable);
}

}  // namespace mkv
