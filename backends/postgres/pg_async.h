// Statements run from a coroutine without blocking its thread: libpq's asynchronous calls
// (send, flush, consume input) driven by Asio waiting on the connection's socket, on the
// awaiting coroutine's own executor.
#pragma once

#include "pg_handles.h"
#include "pg_session.h"

#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>

#include <unistd.h>

namespace mkv::pg {

namespace net = boost::asio;

// Runs the prepared statement p on conn (which must be idle) and returns its rows, waiting on
// the socket instead of blocking. conn is left idle and in blocking mode, as it was.
inline net::awaitable<Result<Rows>> async_exec(PGconn* conn, const Prepared& p,
                                               const Params& params) {
  constexpr auto as_values = net::experimental::as_tuple(net::use_awaitable);
  // A duplicate of the socket: the descriptor object closes it, never libpq's own.
  const int fd = ::dup(PQsocket(conn));
  if (fd < 0) co_return Error::database(std::string(p.name) + ": no connection socket");
  net::posix::stream_descriptor socket(co_await net::this_coro::executor, fd);
  if (PQsetnonblocking(conn, 1) != 0) co_return failure(p.name, conn, nullptr);
  struct Blocking {  // back to blocking mode however this ends (the sync calls expect it)
    PGconn* conn;
    ~Blocking() { PQsetnonblocking(conn, 0); }
  } restore{conn};

  if (PQsendQueryPrepared(conn, p.name, params.count(), params.values(), params.lengths(),
                          params.formats(), 1) != 1) {
    co_return failure(p.name, conn, nullptr);
  }
  for (int flushed; (flushed = PQflush(conn)) != 0;) {
    if (flushed < 0) co_return failure(p.name, conn, nullptr);
    auto [ec] = co_await socket.async_wait(net::posix::descriptor_base::wait_write, as_values);
    if (ec) co_return Error::database(std::string(p.name) + ": " + ec.message());
  }
  // Input is consumed before every wait, so a reply that came before the wait is never missed.
  Rows rows;
  for (;;) {
    if (PQconsumeInput(conn) != 1) co_return failure(p.name, conn, nullptr);
    if (PQisBusy(conn)) {
      auto [ec] = co_await socket.async_wait(net::posix::descriptor_base::wait_read, as_values);
      if (ec) co_return Error::database(std::string(p.name) + ": " + ec.message());
      continue;
    }
    PGresult* next = PQgetResult(conn);
    if (!next) break;
    if (rows) {
      PQclear(next);
    } else {
      rows.reset(next);
    }
  }
  const auto status = rows ? PQresultStatus(rows.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    co_return failure(p.name, conn, rows.get());
  }
  co_return rows;
}

}  // namespace mkv::pg
