// The integration test harness: processes (nginx volumes, mkv), temp directories, and the
// blocking HTTP client built on Boost.Beast.
#include "harness.h"

#ifdef MKV_HAVE_POSTGRES_FIXTURE
#include "postgres_server.h"
#endif

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mkv::test {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// ---------------------------------------------------------------------------------------------
// Files

std::string read_whole_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_whole_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Returns base/key with the key's bytes taken as they are (a leading '/' does not replace base).
fs::path under(const fs::path& base, std::string_view key) {
  return fs::path(base.string() + "/" + std::string(key));
}

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : fallback;
}

// ---------------------------------------------------------------------------------------------
// Processes

// Starts argv in a new process group whose leader is the child, with stdin from /dev/null and
// stdout and stderr appended to the given files (which may be the same). The child gets
// SIGTERM if the calling thread dies. Returns its pid.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& out_path,
            const fs::path& err_path) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const std::string out = out_path.string();
  const std::string err = err_path.string();
  const bool same_file = out == err;
  const pid_t parent = getpid();
  const char exec_failed[] = "harness: exec failed: ";

  const pid_t pid = fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    const int in_fd = open("/dev/null", O_RDONLY);
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int err_fd = same_file ? out_fd : open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) _exit(127);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    close_range(3, ~0U, 0);
    execv(args[0], args.data());
    (void)!write(2, exec_failed, sizeof exec_failed - 1);
    (void)!write(2, args[0], strlen(args[0]));
    (void)!write(2, "\n", 1);
    _exit(127);
  }
  setpgid(pid, pid);  // also done by the child; whichever runs first wins
  return pid;
}

// Waits up to timeout for pid to exit and returns its wait status, or nullopt if it still runs.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return 0;  // not our child any more: nothing to wait for
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

// Returns the exit code of a wait status: the exit status, or 128 + the signal that ended it.
int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Kills the process group led by pid with SIGKILL and reaps the leader.
void kill_group_and_reap(pid_t pid) {
  killpg(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// How waiting for a freshly started process to listen ended.
enum class Startup { listening, exited, timed_out };

// Waits up to timeout for 127.0.0.1:port to accept connections while pid runs. On `exited`,
// *status is the wait status of the reaped process.
Startup wait_until_listening(pid_t pid, std::uint16_t port, std::chrono::milliseconds timeout,
                             int* status) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto exited = wait_for_exit(pid, 0ms)) {
      *status = *exited;
      return Startup::exited;
    }
    if (accepts_connections(port)) return Startup::listening;
    if (Clock::now() >= deadline) return Startup::timed_out;
    std::this_thread::sleep_for(10ms);
  }
}

// One process's state letter and process group, from /proc/PID/stat.
struct ProcStat {
  char state = '?';
  pid_t group = -1;
};

std::optional<ProcStat> proc_stat(pid_t pid) {
  const std::string text = read_whole_file("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = text.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 1));
  ProcStat stat;
  pid_t parent = 0;
  if (!(fields >> stat.state >> parent >> stat.group)) return std::nullopt;
  return stat;
}

// Returns the pids of the live processes in process group `group`.
std::vector<pid_t> group_members(pid_t group) {
  std::vector<pid_t> members;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    const bool is_pid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    if (!is_pid) continue;
    const pid_t pid = std::stoi(name);
    const auto stat = proc_stat(pid);
    if (stat && stat->group == group && stat->state != 'Z') members.push_back(pid);
  }
  return members;
}

// Waits up to timeout until every process of the group is stopped by a signal.
void wait_until_group_stopped(pid_t group, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    bool all_stopped = true;
    for (pid_t pid : group_members(group)) {
      const auto stat = proc_stat(pid);
      if (stat && stat->state != 'T' && stat->state != 't') all_stopped = false;
    }
    if (all_stopped) return;
    std::this_thread::sleep_for(2ms);
  }
}

// Waits up to timeout until nothing accepts connections on the port any more.
void wait_until_refused(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (accepts_connections(port) && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
}

// ---------------------------------------------------------------------------------------------
// The volume template

std::string nginx_template_path() {
#ifdef MKV_HARNESS_NGINX_CONF
  return env_or("MKV_NGINX_CONF", MKV_HARNESS_NGINX_CONF);
#else
  return env_or("MKV_NGINX_CONF", "");
#endif
}

std::string fault_directives(Fault fault) {
  switch (fault) {
    case Fault::none: return "";
    case Fault::put_500: return "            if ($request_method = PUT) { return 500; }";
    case Fault::put_507: return "            if ($request_method = PUT) { return 507; }";
    case Fault::close_every_3: return "            keepalive_requests 3;";
    case Fault::no_move: return "";  // (a change of the template's dav_methods line)
  }
  return "";
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// Returns the template with its placeholders filled in.
std::string render_volume_config(std::uint16_t port, const fs::path& dir, unsigned workers,
                                 Fault fault, const std::string& link_secret) {
  const std::string path = nginx_template_path();
  if (path.empty()) throw std::runtime_error("MKV_NGINX_CONF is not set");
  std::string text = read_whole_file(path);
  if (text.empty()) throw std::runtime_error("cannot read the volume template " + path);
  replace_all(text, "@PORT@", std::to_string(port));
  replace_all(text, "@DIR@", dir.string());
  replace_all(text, "@WORKERS@", std::to_string(workers));
  replace_all(text, "@EXTRA@", fault_directives(fault));
  replace_all(text, "@SECURE_LINK@",
              link_secret.empty()
                  ? std::string()
                  : "            secure_link $arg_md5,$arg_expires;\n"
                    "            secure_link_md5 \"$secure_link_expires$mkv_link_scope$uri " +
                        link_secret +
                        "\";\n"
                        "            if ($secure_link = \"\") { return 403; }\n"
                        "            if ($secure_link = \"0\") { return 410; }");
  if (fault == Fault::no_move) {
    replace_all(text, "dav_methods PUT DELETE MOVE;", "dav_methods PUT DELETE;");
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// HTTP

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <class Body>
void set_method(http::request<Body>& req, std::string_view method) {
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
}

// Adds the caller's headers, replacing same-named ones; a Transfer-Encoding drops the
// Content-Length so that the two never go together.
template <class Body>
void apply_headers(http::request<Body>& req, const Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (lower(name) == "transfer-encoding") req.erase(http::field::content_length);
    req.set(name, value);
  }
}

// Runs the io_context until the operations started on it have completed. Each operation
// reports its outcome through the error code its handler stores.
void run_io(net::io_context& io) {
  io.restart();
  io.run();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ports and directories

std::uint16_t free_port() {
  net::io_context io;
  tcp::acceptor acceptor(io);
  acceptor.open(tcp::v4());
  acceptor.bind(tcp::endpoint(net::ip::address_v4::loopback(), 0));
  return acceptor.local_endpoint().port();
}

bool accepts_connections(std::uint16_t port) {
  net::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(net::ip::address_v4::loopback(), port), ec);
  return !ec;
}

TempDir::TempDir(Under under) {
  std::string pattern = (under == Under::shm ? "/dev/shm" : "/tmp") + std::string("/mkv-test-XXXXXX");
  if (!mkdtemp(pattern.data())) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

// ---------------------------------------------------------------------------------------------
// The index

namespace {

bool is_uri_or_conninfo(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://") ||
         location.find('=') != std::string_view::npos;
}

// Returns the database that stands for the index path: the same in every process and run for
// the same path (FNV-1a of the absolute path), so that a test's two mkv runs share it.
std::string database_for(const fs::path& path) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : fs::absolute(path).lexically_normal().string()) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char name[21];
  std::snprintf(name, sizeof name, "mkv_%016llx", static_cast<unsigned long long>(hash));
  return name;
}

// The databases this process made, so that each is created once (threads may share a test).
std::mutex databases_mutex;
std::set<std::string> databases_made;

[[noreturn, maybe_unused]] void no_postgres() {
  throw std::runtime_error(
      "MKV_INDEX=postgres, but the test harness was built without libpq "
      "(tests/support/postgres_server.h): install libpq-dev and reconfigure");
}

}  // namespace

std::string index_backend() {
  return env_or("MKV_INDEX", "sqlite");
}

bool index_on_server() {
  return index_backend() == "postgres";
}

std::string index_location(const fs::path& path) {
  if (!index_on_server() || is_uri_or_conninfo(path.string())) return path.string();
#ifdef MKV_HAVE_POSTGRES_FIXTURE
  const std::string name = database_for(path);
  PostgresServer& server = shared_postgres();
  std::lock_guard lock(databases_mutex);
  if (databases_made.insert(name).second) {
    try {
      server.create_database(name);
    } catch (...) {
      databases_made.erase(name);
      throw;
    }
  }
  return server.uri(name);
#else
  no_postgres();
#endif
}

std::vector<std::string> index_args(std::vector<std::string> args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "-d" || args[i] == "--db") && i + 1 < args.size()) {
      args[i + 1] = index_location(args[i + 1]);
      ++i;
    } else if (args[i].starts_with("--db=")) {
      args[i] = "--db=" + index_location(args[i].substr(5));
    }
  }
  return args;
}

void remove_index(const fs::path& path) {
  if (index_on_server() && !is_uri_or_conninfo(path.string())) {
#ifdef MKV_HAVE_POSTGRES_FIXTURE
    const std::string name = database_for(path);
    std::lock_guard lock(databases_mutex);
    shared_postgres().drop_database(name);
    databases_made.erase(name);
    return;
#else
    no_postgres();
#endif
  }
  for (const char* suffix : {"", "-wal", "-shm", "-lock", ".lock"}) {
    std::error_code ec;
    fs::remove(path.string() + suffix, ec);
  }
}

std::string recorded_admin_address(const fs::path& path) {
  if (index_on_server()) {
#ifdef MKV_HAVE_POSTGRES_FIXTURE
    const std::string uri = index_location(path);
    return shared_postgres().sql(uri.substr(uri.rfind('/') + 1),
                                 "SELECT convert_from(body, 'UTF8') FROM mkv_control.journals"
                                 " WHERE name = 'admin'");
#else
    no_postgres();
#endif
  }
  std::ifstream in(path.string() + ".admin");
  std::string line;
  std::getline(in, line);
  return line;
}

// ---------------------------------------------------------------------------------------------
// Programs

RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout) {
  TempDir dir;
  std::vector<std::string> argv{program};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn(argv, dir.path() / "stdout", dir.path() / "stderr");

  RunResult result;
  if (auto status = wait_for_exit(pid, timeout)) {
    result.exit_code = exit_code_of(*status);
  } else {
    kill_group_and_reap(pid);
    result.exit_code = 128 + SIGKILL;
    result.timed_out = true;
  }
  result.out = read_whole_file(dir.path() / "stdout");
  result.err = read_whole_file(dir.path() / "stderr");
  return result;
}

std::string mkv_binary() {
  std::string bin = env_or("MKV_BIN", "");
  if (bin.empty()) throw std::runtime_error("MKV_BIN is not set (the path of the mkv binary)");
  return bin;
}

RunResult run(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  return run_program(mkv_binary(), index_args(args), timeout);
}

std::string join_urls(const std::vector<std::string>& urls) {
  std::string joined;
  for (const auto& url : urls) {
    if (!joined.empty()) joined += ',';
    joined += url;
  }
  return joined;
}

// ---------------------------------------------------------------------------------------------
// Volume

Volume::Volume(Fault fault, unsigned workers, std::string link_secret) : port_(free_port()) {
  fs::create_directories(dir_.path() / "data");
  fs::create_directories(dir_.path() / "tmp");
  write_whole_file(dir_.path() / "nginx.conf",
                   render_volume_config(port_, dir_.path(), workers, fault, link_secret));
  start();
}

Volume::~Volume() {
  try {
    stop();
  } catch (...) {
  }
}

std::string Volume::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

fs::path Volume::data_dir() const { return dir_.path() / "data"; }

std::string Volume::error_log() const { return read_whole_file(dir_.path() / "error.log"); }

void Volume::start() {
  if (pid_ > 0) return;
  const std::string nginx = env_or("NGINX", "/usr/sbin/nginx");
  const fs::path output = dir_.path() / "nginx.out";
  const pid_t pid = spawn({nginx, "-p", dir_.path().string(), "-c",
                           (dir_.path() / "nginx.conf").string()},
                          output, output);
  int status = 0;
  switch (wait_until_listening(pid, port_, 10s, &status)) {
    case Startup::listening:
      pid_ = pid;
      return;
    case Startup::exited:
      throw std::runtime_error("nginx exited with code " + std::to_string(exit_code_of(status)) +
                               " before listening on port " + std::to_string(port_) + ":\n" +
                               read_whole_file(output) + error_log());
    case Startup::timed_out:
      kill_group_and_reap(pid);
      throw std::runtime_error("nginx did not listen on port " + std::to_string(port_) +
                               " within 10 s:\n" + read_whole_file(output) + error_log());
  }
}

void Volume::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);  // nginx's fast shutdown: the master stops the workers, then exits
  if (paused_) killpg(pid_, SIGCONT);
  paused_ = false;
  if (!wait_for_exit(pid_, 5s)) {
    kill_group_and_reap(pid_);
    wait_until_refused(port_, 1s);  // workers may outlive the master by a moment
  }
  pid_ = -1;
}

void Volume::kill9() {
  if (pid_ <= 0) return;
  kill_group_and_reap(pid_);
  paused_ = false;
  wait_until_refused(port_, 1s);
  pid_ = -1;
}

void Volume::pause() {
  if (pid_ <= 0) throw std::runtime_error("pause(): the volume is not running");
  killpg(pid_, SIGSTOP);
  paused_ = true;
  wait_until_group_stopped(pid_, 2s);
}

void Volume::resume() {
  if (pid_ <= 0 || !paused_) return;
  killpg(pid_, SIGCONT);
  paused_ = false;
}

bool Volume::has(std::string_view key) const {
  std::error_code ec;
  return fs::is_regular_file(under(data_dir(), key), ec);
}

std::string Volume::read(std::string_view key) const {
  const fs::path path = under(data_dir(), key);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw std::runtime_error("volume " + url() + " has no file " + path.string());
  }
  return read_whole_file(path);
}

void Volume::write(std::string_view key, std::string_view bytes) const {
  const fs::path path = under(data_dir(), key);
  fs::create_directories(path.parent_path());
  write_whole_file(path, bytes);
}

std::vector<std::string> Volume::files() const {
  std::vector<std::string> found;
  const fs::path root = data_dir();
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.symlink_status().type() == fs::file_type::regular) {
      found.push_back(entry.path().lexically_relative(root).generic_string());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

// ---------------------------------------------------------------------------------------------
// Server

Server::Server(fs::path db, std::vector<std::string> volume_urls, unsigned replicas,
               std::vector<std::string> extra_args)
    : port_(free_port()) {
  argv_ = {mkv_binary(),
           "-d",
           index_location(db),
           "-v",
           join_urls(volume_urls),
           "-r",
           std::to_string(replicas),
           "serve",
           "-p",
           std::to_string(port_)};
  // Tests listen on loopback only, unless a test chooses the address itself.
  if (std::find(extra_args.begin(), extra_args.end(), "--bind") == extra_args.end()) {
    argv_.insert(argv_.end(), {"--bind", "127.0.0.1"});
  }
  argv_.insert(argv_.end(), extra_args.begin(), extra_args.end());
  start();
}

Server::~Server() {
  try {
    stop();
  } catch (...) {
  }
}

std::string Server::log() const { return read_whole_file(dir_.path() / "mkv.log"); }

void Server::start() {
  if (pid_ > 0) return;
  const pid_t pid = spawn(argv_, dir_.path() / "mkv.log", dir_.path() / "mkv.log");
  int status = 0;
  switch (wait_until_listening(pid, port_, 15s, &status)) {
    case Startup::listening:
      pid_ = pid;
      // Listening is not serving yet: mkv first finishes interrupted overwrites and checks its
      // volumes, and queues connections meanwhile. The first answer says it is done.
      try {
        (void)request(port_, "GET", "/.mkv/health", {}, {}, 15s);
      } catch (const std::exception& e) {
        throw std::runtime_error("mkv listened on port " + std::to_string(port_) +
                                 " but did not answer within 15 s (" + e.what() + "); its log:\n" +
                                 log());
      }
      return;
    case Startup::exited:
      throw std::runtime_error("mkv exited with code " + std::to_string(exit_code_of(status)) +
                               " before listening on port " + std::to_string(port_) +
                               "; its log:\n" + log());
    case Startup::timed_out:
      kill_group_and_reap(pid);
      throw std::runtime_error("mkv did not listen on port " + std::to_string(port_) +
                               " within 15 s; its log:\n" + log());
  }
}

int Server::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  auto status = wait_for_exit(pid_, 10s);
  int code = 128 + SIGKILL;
  if (status) {
    code = exit_code_of(*status);
  } else {
    kill_group_and_reap(pid_);
  }
  pid_ = -1;
  if (code > 0 && code < 128) {
    // A failed exit (a sanitizer's report, say) is explained only in the log, which goes with
    // the test's temp directory: show it where the test's output is kept.
    std::fprintf(stderr, "mkv exited with %d on SIGTERM; its log:\n%s\n", code, log().c_str());
  }
  return code;
}

void Server::kill9() {
  if (pid_ <= 0) return;
  kill_group_and_reap(pid_);
  pid_ = -1;
}

// ---------------------------------------------------------------------------------------------
// HTTP client

struct Connection::Impl {
  std::string host;
  std::uint16_t port = 0;
  std::chrono::milliseconds timeout;
  net::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bool open = false;

  Impl(std::string host_, std::uint16_t port_, std::chrono::milliseconds timeout_)
      : host(std::move(host_)), port(port_), timeout(timeout_) {}

  std::string where() const { return host + ":" + std::to_string(port); }

  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    buffer.clear();
    open = false;
  }

  void connect() {
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) throw boost::system::system_error(ec, "resolve " + host);
    buffer.clear();
    stream.expires_after(timeout);
    stream.async_connect(endpoints, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run_io(io);
    if (ec) throw boost::system::system_error(ec, "connect to " + where());
    open = true;
  }

  // Writes whatever buffers or message `start` writes; returns the error.
  template <class Start>
  beast::error_code write(Start start) {
    beast::error_code ec;
    stream.expires_after(timeout);
    start([&ec](beast::error_code e, std::size_t) { ec = e; });
    run_io(io);
    return ec;
  }

  Response read_response(bool head, const std::string& what) {
    for (;;) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(boost::none);
      parser.skip(head);  // a response to HEAD has headers only, whatever they say
      beast::error_code ec;
      stream.expires_after(timeout);
      http::async_read(stream, buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
      run_io(io);
      if (ec) {
        close();
        throw boost::system::system_error(ec, "read the response to " + what);
      }
      auto& message = parser.get();
      const unsigned status = message.result_int();
      if (status >= 100 && status < 200 && status != 101) continue;  // interim: read on

      Response response;
      response.status = status;
      for (const auto& field : message) {
        const std::string name = lower(field.name_string());
        auto [it, inserted] = response.headers.emplace(name, std::string(field.value()));
        if (!inserted) it->second += ", " + std::string(field.value());
      }
      response.body = std::move(message.body());
      if (!message.keep_alive()) close();
      return response;
    }
  }

  // Reads the response after a failed write: the server may have answered and closed before
  // taking the whole request. Throws the write error if there is no response either.
  Response response_after_write_error(beast::error_code write_error, bool head,
                                      const std::string& what) {
    if (write_error != beast::error::timeout) {
      try {
        return read_response(head, what);
      } catch (const std::exception&) {
      }
    }
    close();
    throw boost::system::system_error(write_error, "write " + what);
  }
};

Connection::Connection(std::uint16_t port, std::chrono::milliseconds timeout)
    : Connection("127.0.0.1", port, timeout) {}

Connection::Connection(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(host), port, timeout)) {}

Connection::~Connection() = default;
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

bool Connection::is_open() const { return impl_->open; }

Response Connection::request(std::string_view method, std::string_view target,
                             std::string_view body, const Headers& headers) {
  Impl& c = *impl_;
  http::request<http::string_body> req;
  set_method(req, method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, c.where());
  req.body() = std::string(body);
  req.prepare_payload();
  apply_headers(req, headers);

  const std::string what = std::string(method) + " " + std::string(target) + " to " + c.where();
  const bool head = req.method() == http::verb::head;
  if (!c.open) c.connect();
  const auto ec = c.write([&](auto handler) { http::async_write(c.stream, req, handler); });
  if (ec) return c.response_after_write_error(ec, head, what);
  return c.read_response(head, what);
}

Response Connection::request_chunked(std::string_view method, std::string_view target,
                                     const BodySource& body, const Headers& headers) {
  Impl& c = *impl_;
  http::request<http::empty_body> req;
  set_method(req, method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, c.where());
  req.chunked(true);
  apply_headers(req, headers);

  const std::string what = std::string(method) + " " + std::string(target) + " to " + c.where();
  const bool head = req.method() == http::verb::head;
  if (!c.open) c.connect();
  http::request_serializer<http::empty_body> serializer(req);
  auto ec = c.write([&](auto handler) { http::async_write_header(c.stream, serializer, handler); });
  if (ec) return c.response_after_write_error(ec, head, what);
  for (;;) {
    std::optional<std::string> piece;
    try {
      piece = body();
    } catch (...) {
      c.close();  // an upload aborted mid-body
      throw;
    }
    if (!piece) break;
    if (piece->empty()) continue;  // an empty chunk would end the body
    ec = c.write([&](auto handler) {
      net::async_write(c.stream, http::make_chunk(net::buffer(*piece)), handler);
    });
    if (ec) return c.response_after_write_error(ec, head, what);
  }
  ec = c.write([&](auto handler) { net::async_write(c.stream, http::make_chunk_last(), handler); });
  if (ec) return c.response_after_write_error(ec, head, what);
  return c.read_response(head, what);
}

Response request(std::uint16_t port, std::string_view method, std::string_view target,
                 std::string_view body, const Headers& headers,
                 std::chrono::milliseconds timeout) {
  Connection connection(port, timeout);
  return connection.request(method, target, body, headers);
}

Response request_chunked(std::uint16_t port, std::string_view method, std::string_view target,
                         const BodySource& body, const Headers& headers,
                         std::chrono::milliseconds timeout) {
  Connection connection(port, timeout);
  return connection.request_chunked(method, target, body, headers);
}

Response request_url(std::string_view url, std::string_view method, std::string_view body,
                     const Headers& headers, std::chrono::milliseconds timeout) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) {
    throw std::invalid_argument("request_url: not an http:// URL: " + std::string(url));
  }
  const std::string_view rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view target = slash == std::string_view::npos ? "/" : rest.substr(slash);

  std::string_view host = authority;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {  // [v6 address]:port
    const auto close = authority.find(']');
    host = authority.substr(1, close == std::string_view::npos ? close : close - 1);
    if (close != std::string_view::npos && authority.substr(close + 1, 1) == ":") {
      port_text = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  unsigned port = 80;
  if (!port_text.empty()) {
    try {
      port = static_cast<unsigned>(std::stoul(std::string(port_text)));
    } catch (const std::exception&) {
      port = 0;
    }
  }
  if (host.empty() || port == 0 || port > 65535) {
    throw std::invalid_argument("request_url: bad host or port in " + std::string(url));
  }

  Headers all{{"Host", std::string(authority)}};
  all.insert(all.end(), headers.begin(), headers.end());
  Connection connection(std::string(host), static_cast<std::uint16_t>(port), timeout);
  return connection.request(method, target, body, all);
}

std::string raw_exchange(std::uint16_t port, std::string_view bytes,
                         std::chrono::milliseconds timeout) {
  net::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code ec;
  stream.expires_after(timeout);
  stream.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port),
                       [&ec](beast::error_code e) { ec = e; });
  run_io(io);
  if (ec) {
    throw boost::system::system_error(ec, "connect to 127.0.0.1:" + std::to_string(port));
  }

  stream.expires_after(timeout);
  net::async_write(stream, net::buffer(bytes), [&ec](beast::error_code e, std::size_t) { ec = e; });
  run_io(io);
  // A write error is no failure here: the server may have answered and closed early.

  std::string received;
  char chunk[16384];
  stream.expires_after(timeout);
  for (;;) {
    std::size_t got = 0;
    stream.async_read_some(net::buffer(chunk), [&](beast::error_code e, std::size_t n) {
      ec = e;
      got = n;
    });
    run_io(io);
    received.append(chunk, got);
    if (ec) break;
  }
  return received;
}

}  // namespace mkv::test
