// The integration test harness: real nginx volumes, the real mkv binary, and a small blocking
// HTTP client, for the doctest integration suites. No mocks: every Volume is an nginx process,
// every Server is the mkv binary, every request goes over TCP.
//
// Environment:
//   MKV_NGINX_CONF  the volume template (scripts/nginx-volume.conf.in); defaults to the source
//                   tree's copy when the build defines MKV_HARNESS_NGINX_CONF
//   MKV_BIN         the mkv binary, for Server and run()
//   NGINX           the nginx binary; defaults to /usr/sbin/nginx
//   MKV_INDEX       the index backend mkv was built with (sqlite, lmdb, postgres). With
//                   postgres, every index path a test gives mkv (-d PATH, through Server and
//                   run()) becomes a database on this process's throwaway PostgreSQL server
//                   (tests/support/postgres_server.h), so that tests run unchanged.
//
// Failures to set things up (a process that will not start, a missing file) throw
// std::runtime_error with the details, so doctest reports them on the test that hit them.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace mkv::test {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Ports and directories

// Returns a TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
[[nodiscard]] std::uint16_t free_port();

// Returns whether something accepts TCP connections on 127.0.0.1:port right now.
[[nodiscard]] bool accepts_connections(std::uint16_t port);

// A fresh directory made by mkdtemp, removed with everything in it by the destructor.
class TempDir {
 public:
  enum class Under { tmp, shm };  // /tmp, or /dev/shm for a RAM-backed directory

  explicit TempDir(Under under = Under::tmp);
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Returns the directory's absolute path.
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ---------------------------------------------------------------------------------------------
// The index

// Returns the index backend under test: MKV_INDEX, or "sqlite" if it is unset.
[[nodiscard]] std::string index_backend();

// Returns whether the index is a database on a server (MKV_INDEX=postgres) rather than files at
// the path a test chose. Tests that look at index files skip with a MESSAGE when it is.
[[nodiscard]] bool index_on_server();

// Returns what mkv's -d gets for the index a test places at path: path itself, or with
// MKV_INDEX=postgres the URI of the database standing for it on shared_postgres(), named
// "mkv_" + 16 hex digits of a hash of the path and created on first use. A path that is a
// URI already (postgresql://, postgres://) or a conninfo string (has '=') is returned as is.
// Throws if postgres is wanted but the harness was built without libpq.
[[nodiscard]] std::string index_location(const std::filesystem::path& path);

// Returns args with each index path (-d PATH, --db PATH, --db=PATH) replaced by
// index_location(PATH). Server and run() do this themselves; for tests that start mkv another
// way.
[[nodiscard]] std::vector<std::string> index_args(std::vector<std::string> args);

// Removes the index at path: the file and those beside it (-wal, -shm, -lock, .lock), or with
// MKV_INDEX=postgres its database, which the next index_location(path) makes again, empty.
// Open it nowhere meanwhile.
void remove_index(const std::filesystem::path& path);

// Returns the admin address ("HOST:PORT") a running mkv serve recorded for the index at path:
// the file path + ".admin", or with MKV_INDEX=postgres the journal "admin" in its database;
// "" if none is recorded.
[[nodiscard]] std::string recorded_admin_address(const std::filesystem::path& path);

// ---------------------------------------------------------------------------------------------
// Processes

// The outcome of a program run to completion.
struct RunResult {
  int exit_code = -1;   // the exit status, or 128 + signal number if a signal ended it
  bool timed_out = false;  // true if it was SIGKILLed for running past the timeout
  std::string out;      // everything it wrote to stdout
  std::string err;      // everything it wrote to stderr
};

// Runs program with args (argv[1..]) to completion, stdin from /dev/null, and returns its exit
// code and output. Kills it with SIGKILL if it runs longer than timeout.
[[nodiscard]] RunResult run_program(const std::string& program,
                                    const std::vector<std::string>& args,
                                    std::chrono::milliseconds timeout = 60s);

// Returns the mkv binary named by MKV_BIN; throws if MKV_BIN is unset.
[[nodiscard]] std::string mkv_binary();

// Runs the mkv CLI (MKV_BIN) with args, e.g. {"-d", db, "-v", urls, "-r", "2", "rebuild"}; the
// index path goes through index_args().
[[nodiscard]] RunResult run(const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout = 60s);

// Faults a Volume can be started with.
enum class Fault {
  none,
  put_500,  // nginx answers every PUT with 500 (and closes the connection, as nginx does)
  put_507,  // nginx answers every PUT with 507 Insufficient Storage
  close_every_3,  // nginx closes each connection after its third request (keepalive_requests)
  no_move,        // the spec's own nginx block: `dav_methods PUT DELETE;`, without MOVE
};

// One nginx WebDAV volume rendered from the volume template, in its own TempDir, on a free
// port of 127.0.0.1. The constructor returns once the port accepts connections; the destructor
// stops nginx. Keys map to files byte for byte: key "a/b" is data_dir()/"a/b".
class Volume {
 public:
  // With a link_secret, the volume serves only URLs signed with it (nginx secure_link, as
  // scripts/volume --secret renders it).
  explicit Volume(Fault fault = Fault::none, unsigned workers = 1, std::string link_secret = {});
  ~Volume();
  Volume(const Volume&) = delete;
  Volume& operator=(const Volume&) = delete;

  // Returns "http://127.0.0.1:PORT".
  [[nodiscard]] std::string url() const;
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Returns the directory nginx serves (its document root).
  [[nodiscard]] std::filesystem::path data_dir() const;
  // Returns nginx's error log.
  [[nodiscard]] std::string error_log() const;
  // Returns the nginx master's pid, or -1 while stopped.
  [[nodiscard]] pid_t pid() const { return pid_; }

  // Stops nginx (SIGTERM, then SIGKILL after 5 s) and waits for it; the port then refuses
  // connections. Does nothing if already stopped.
  void stop();
  // Kills nginx (master and workers) with SIGKILL, as a crash or a pulled plug would, and reaps
  // it; the port then refuses connections. Does nothing if stopped.
  void kill9();
  // Starts nginx again on the same port and data. Does nothing if running.
  void start();
  // Freezes the master and workers with SIGSTOP: the kernel still accepts TCP connections on
  // the port, but nothing is ever answered.
  void pause();
  // Undoes pause() with SIGCONT.
  void resume();

  // Returns whether data_dir()/key is a regular file.
  [[nodiscard]] bool has(std::string_view key) const;
  // Returns the bytes of data_dir()/key; throws if it is not a readable file.
  [[nodiscard]] std::string read(std::string_view key) const;
  // Writes bytes to data_dir()/key directly on disk, creating parent directories.
  void write(std::string_view key, std::string_view bytes) const;
  // Returns every regular file under data_dir(), as sorted paths relative to it ("a/b").
  [[nodiscard]] std::vector<std::string> files() const;

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
};

// The mkv binary (MKV_BIN) serving on a free port:
//   mkv -d index_location(DB) -v URL,URL... -r REPLICAS serve -p PORT [extra_args...]
// Its stdout and stderr go to a log file (log()). The constructor returns once mkv answers a
// request (GET /.mkv/health: its start-up, finishing interrupted overwrites and checking the
// volumes, is over), and throws with the log if mkv exits or does not answer within 15 s. The
// destructor stops it.
class Server {
 public:
  Server(std::filesystem::path db, std::vector<std::string> volume_urls, unsigned replicas,
         std::vector<std::string> extra_args = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Returns the pid of mkv, or -1 while stopped.
  [[nodiscard]] pid_t pid() const { return pid_; }
  // Returns everything mkv wrote to stdout and stderr so far, over all its starts.
  [[nodiscard]] std::string log() const;

  // Stops mkv with SIGTERM (SIGKILL after 10 s) and returns its exit code (128 + signal if a
  // signal ended it); a failed exit (1 to 127) also prints its log to stderr. Returns -1 if it
  // was not running.
  int stop();
  // Kills mkv with SIGKILL, as a crash would, and reaps it.
  void kill9();
  // Starts mkv again with the same arguments, port and database. Does nothing if running.
  void start();

 private:
  std::vector<std::string> argv_;
  TempDir dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// Joins URLs with commas, as -v wants them.
[[nodiscard]] std::string join_urls(const std::vector<std::string>& urls);

// ---------------------------------------------------------------------------------------------
// HTTP client. Never follows redirects; no limit on the response body size. Each socket
// operation (connect, write, read) times out after `timeout`. Connection errors and timeouts
// throw boost::system::system_error (a std::runtime_error; beast::error::timeout on timeout).

struct Response {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
  std::string body;

  // Returns the header's value, or "" if absent (name in lower case).
  [[nodiscard]] std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// Returns the next piece of a streamed body, or nullopt at its end. If it throws, the
// connection is closed mid-body (an aborted upload) and the exception propagates.
using BodySource = std::function<std::optional<std::string>()>;

constexpr std::chrono::milliseconds default_timeout = 30s;

// One keep-alive HTTP/1.1 connection to host:port (host is a name or an address). Requests go
// one at a time; after a response that closes the connection, the next request reconnects.
// Host is sent as "host:port" unless headers set it.
class Connection {
 public:
  explicit Connection(std::uint16_t port, std::chrono::milliseconds timeout = default_timeout);
  Connection(std::string host, std::uint16_t port,
             std::chrono::milliseconds timeout = default_timeout);
  ~Connection();
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;

  // Sends one request and returns the response. The body gets a Content-Length (0 too for
  // PUT and POST); headers are added last and replace same-named ones (a Transfer-Encoding
  // header drops the Content-Length and sends the body chunked).
  Response request(std::string_view method, std::string_view target, std::string_view body = {},
                   const Headers& headers = {});
  // Sends one request whose body is streamed with chunked transfer encoding, piece by piece.
  Response request_chunked(std::string_view method, std::string_view target, const BodySource& body,
                           const Headers& headers = {});
  // Returns whether the connection is open (the last response kept it alive).
  [[nodiscard]] bool is_open() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sends one request to 127.0.0.1:port on a new connection and returns the response.
Response request(std::uint16_t port, std::string_view method, std::string_view target,
                 std::string_view body = {}, const Headers& headers = {},
                 std::chrono::milliseconds timeout = default_timeout);

// Sends one request to an absolute "http://host[:port]/target" URL (e.g. a Location header)
// on a new connection and returns the response.
Response request_url(std::string_view url, std::string_view method = "GET",
                     std::string_view body = {}, const Headers& headers = {},
                     std::chrono::milliseconds timeout = default_timeout);

// Sends one request to 127.0.0.1:port with a chunked body from body (see BodySource).
Response request_chunked(std::uint16_t port, std::string_view method, std::string_view target,
                         const BodySource& body, const Headers& headers = {},
                         std::chrono::milliseconds timeout = default_timeout);

// Connects to 127.0.0.1:port, writes bytes as they are, and returns everything received until
// the peer closes, resets, or timeout passes (counted from the end of the write). For
// malformed-HTTP tests. Throws only if it cannot connect; a failed write (the server closed
// early) still returns what was received.
std::string raw_exchange(std::uint16_t port, std::string_view bytes,
                         std::chrono::milliseconds timeout);

}  // namespace mkv::test
