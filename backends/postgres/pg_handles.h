// Thin RAII over libpq for the PostgreSQL index: a connection and a result that free
// themselves, a statement's parameters kept alive with their formats, and the decoding of
// binary result columns. Every failure becomes a Result error carrying PostgreSQL's own text.
#pragma once

#include "mkv/error.h"

#include <libpq-fe.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkv::pg {

struct ConnectionDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using Connection = std::unique_ptr<PGconn, ConnectionDeleter>;

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Rows = std::unique_ptr<PGresult, ResultDeleter>;

// The SQLSTATE codes a transaction is retried after: another transaction won a race that the
// database resolved by aborting this one, which changed nothing.
inline bool is_retryable(std::string_view sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01";  // serialization failure, deadlock
}

// Returns the message of conn's last failure on one line (libpq ends them with a newline).
inline std::string message_of(PGconn* conn) {
  std::string text = conn ? PQerrorMessage(conn) : "no connection";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

// Returns the SQLSTATE of a failed result ("" if it has none, as for a lost connection).
inline std::string sqlstate_of(const PGresult* rows) {
  const char* state = rows ? PQresultErrorField(rows, PG_DIAG_SQLSTATE) : nullptr;
  return state ? state : "";
}

// Returns the error a failed result reports, prefixed with what was being done.
inline Error failure(std::string_view doing, PGconn* conn, const PGresult* rows) {
  std::string text = rows ? PQresultErrorMessage(rows) : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty()) text = message_of(conn);
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return Error::database(std::string(doing) + ": " + text);
}

// Opens a connection with conninfo (a URI or key=value string), blocking until it is made.
inline Result<Connection> connect(const std::string& conninfo) {
  Connection conn(PQconnectdb(conninfo.c_str()));
  if (!conn) return Error::database("cannot allocate a PostgreSQL connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Error::database("cannot connect to PostgreSQL: " + message_of(conn.get()));
  }
  return conn;
}

// The parameters of one statement, each sent as text or as raw bytes (binary format), with
// their storage. The SQL names each one's type with a cast ($1::bytea, $2::int8).
class Params {
 public:
  // A value sent as text (ints, booleans, text columns).
  Params& text(std::string_view v) { return add(std::string(v), 0); }
  // A value sent as raw bytes (bytea).
  Params& bytes(std::string_view v) { return add(std::string(v), 1); }
  Params& integer(std::int64_t v) { return add(std::to_string(v), 0); }
  Params& boolean(bool v) { return add(v ? "t" : "f", 0); }
  Params& null() {
    values_.push_back(nullptr);
    lengths_.push_back(0);
    formats_.push_back(0);
    return *this;
  }
  // bytes(*v), or null() for nullopt.
  Params& optional_bytes(const std::optional<std::string>& v) { return v ? bytes(*v) : null(); }

  int count() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  Params& add(std::string value, int format) {
    storage_.push_back(std::move(value));  // a deque: earlier values never move
    values_.push_back(storage_.back().data());
    lengths_.push_back(static_cast<int>(storage_.back().size()));
    formats_.push_back(format);
    return *this;
  }

  std::deque<std::string> storage_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// Column decoding for results asked for in binary format.
inline bool is_null(const PGresult* rows, int row, int column) {
  return PQgetisnull(rows, row, column) != 0;
}
inline std::string bytes_at(const PGresult* rows, int row, int column) {
  return std::string(PQgetvalue(rows, row, column),
                     static_cast<std::size_t>(PQgetlength(rows, row, column)));
}
// An int8 column: 8 bytes, most significant first.
inline std::int64_t int8_at(const PGresult* rows, int row, int column) {
  const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(rows, row, column));
  if (PQgetlength(rows, row, column) != 8) return 0;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return static_cast<std::int64_t>(v);
}
// An int4 column: 4 bytes, most significant first.
inline std::int32_t int4_at(const PGresult* rows, int row, int column) {
  const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(rows, row, column));
  if (PQgetlength(rows, row, column) != 4) return 0;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | p[i];
  return static_cast<std::int32_t>(v);
}
// A bool column: one byte.
inline bool bool_at(const PGresult* rows, int row, int column) {
  return PQgetlength(rows, row, column) == 1 && PQgetvalue(rows, row, column)[0] != 0;
}

// Runs one statement with params and returns its rows (binary columns); a failure is an error
// naming doing.
inline Result<Rows> exec(PGconn* conn, std::string_view doing, const char* sql,
                         const Params& params = {}) {
  Rows rows(PQexecParams(conn, sql, params.count(), nullptr, params.values(), params.lengths(),
                         params.formats(), 1));
  const auto status = rows ? PQresultStatus(rows.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return failure(doing, conn, rows.get());
  }
  return rows;
}

// Runs SQL text with no parameters (may hold several statements: schema changes).
inline Result<void> exec_script(PGconn* conn, std::string_view doing, const char* sql) {
  Rows rows(PQexec(conn, sql));
  const auto status = rows ? PQresultStatus(rows.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return failure(doing, conn, rows.get());
  }
  return {};
}

}  // namespace mkv::pg
