// A real, throwaway PostgreSQL server for tests: its own data directory under /tmp, on a free
// port of 127.0.0.1, trusting the user "mkv" without a password, started by the test and
// stopped by it. Independent of the integration harness, so that the index conformance suite
// can use it too.
//
// Environment:
//   MKV_PG_BINDIR  where initdb and postgres are; defaults to `pg_config --bindir`, then
//                  /usr/lib/postgresql/15/bin
//
// As root, initdb and postgres run as the system user "postgres" (initdb refuses root). The
// server runs as a child of the process that starts it and gets SIGQUIT (an immediate
// shutdown) if the thread that started it exits, so a crashed test leaves no server behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace mkv::test {

// Returns "" if a PostgreSQL server can be started here, else why not (binaries missing, no
// "postgres" user to run them as root...).
[[nodiscard]] std::string postgres_unavailable();

// One PostgreSQL server with its own data directory. Not thread-safe: one thread at a time.
class PostgresServer {
 public:
  // Makes a data directory (a copy of a template initdb made once per machine, PostgreSQL
  // version and user, or a fresh initdb) in a new temp directory and starts the server on a
  // free 127.0.0.1 port; returns once it accepts connections. Throws std::runtime_error with
  // the server's log if it does not start within 30 s.
  PostgresServer();
  // Stops the server (fast shutdown, then immediate, then SIGKILL) and removes its directory.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Returns "postgresql://mkv@127.0.0.1:PORT/DATABASE".
  [[nodiscard]] std::string uri(std::string_view database) const;
  // Returns the pid of the postmaster, or -1 while stopped.
  [[nodiscard]] pid_t pid() const { return pid_; }
  // Returns what the server logged so far, over all its starts.
  [[nodiscard]] std::string log() const;

  // Creates the database, owned by "mkv". Does nothing if it already exists (also when another
  // process creates it at the same moment), so callers need not track what they made.
  void create_database(std::string_view name);
  // Drops the database WITH (FORCE), ending its connections. Does nothing if it does not exist.
  void drop_database(std::string_view name);
  // Runs statement (one or several, ';'-separated) in database over a new connection and
  // returns the rows of the last one, each row's fields joined by '|' (NULL as ""), rows joined
  // by '\n' with no newline after the last. Throws std::runtime_error with the server's message
  // on an error.
  std::string sql(std::string_view database, std::string_view statement);

  // Stops the server like the destructor, keeping its data. Does nothing if stopped.
  void stop();
  // Kills the postmaster and its backends with SIGKILL, as a crash would; its data stays.
  void kill9();
  // Starts the server again on the same port and data. Does nothing if running.
  void start();

  // Returns the data directory (PGDATA).
  [[nodiscard]] const std::filesystem::path& data_dir() const { return data_dir_; }

  // Returns a new server that is a streaming standby of primary: a `pg_basebackup -R` of it
  // (a hot standby, read-only, replaying primary's WAL), started on a free port of its own.
  // Returns once primary lists it as streaming (pg_stat_replication). For a synchronous
  // standby, set synchronous_standby_names on primary afterwards (before, the copy would carry
  // the setting and, once promoted, wait forever for a standby of its own). Throws
  // std::runtime_error with the logs if that fails.
  static std::unique_ptr<PostgresServer> standby_of(PostgresServer& primary);
  // Promotes a standby to a primary (pg_promote) and returns once it accepts writes.
  void promote();

 private:
  struct Empty {};
  // A server without a data directory yet (standby_of() makes one).
  explicit PostgresServer(Empty);

  std::filesystem::path dir_;       // the temp directory: data/, the log, the socket
  std::filesystem::path data_dir_;  // dir_/data
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// Returns the one server of this test process, started on first use and stopped when the
// process exits. Safe to call from any thread; the server outlives the thread that called.
PostgresServer& shared_postgres();

}  // namespace mkv::test
