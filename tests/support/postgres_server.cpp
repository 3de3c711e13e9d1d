// A throwaway PostgreSQL server for tests: data directory, processes, and a libpq client for
// setting databases up.
//
// The server is the `postgres` binary run as a child of the test (as `pg_ctl start` would run
// it, but without pg_ctl's daemonizing): the fixture then knows its pid, reaps it, and can
// have the kernel stop it if the test dies. Stopping sends what `pg_ctl stop` sends: SIGINT
// (-m fast), then SIGQUIT (-m immediate).
#include "postgres_server.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mkv::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------------------------------------
// Files and small helpers

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : fallback;
}

// Returns the first line the shell command printed on stdout, or "" if it printed nothing.
std::string first_line_of(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {};
  char buffer[4096];
  std::string line;
  if (std::fgets(buffer, sizeof buffer, pipe)) line = buffer;
  pclose(pipe);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

std::string hex64(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// FNV-1a: a stable hash of text, for names that must be the same in every process.
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

// Returns a TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    const int error = errno;
    close(fd);
    throw std::system_error(error, std::generic_category(), "bind 127.0.0.1:0");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// ---------------------------------------------------------------------------------------------
// Where the binaries are, and whom they run as

// Returns the directory holding initdb and postgres, or "" if none was found.
fs::path find_bindir() {
  std::vector<fs::path> candidates;
  if (const std::string bindir = env_or("MKV_PG_BINDIR", ""); !bindir.empty()) {
    candidates.push_back(bindir);
  } else {
    if (auto bindir = first_line_of("pg_config --bindir 2>/dev/null"); !bindir.empty()) {
      candidates.push_back(bindir);
    }
    candidates.push_back("/usr/lib/postgresql/15/bin");
  }
  for (const auto& dir : candidates) {
    if (access((dir / "initdb").c_str(), X_OK) == 0 &&
        access((dir / "postgres").c_str(), X_OK) == 0) {
      return dir;
    }
  }
  return {};
}

const fs::path& bindir() {
  static const fs::path dir = find_bindir();
  return dir;
}

// The user the server's processes run as: ourselves, or "postgres" when we are root.
struct DbUser {
  bool switch_to = false;  // whether children must drop root for uid/gid
  uid_t uid = 0;
  gid_t gid = 0;
};

std::optional<DbUser> find_db_user() {
  if (geteuid() != 0) return DbUser{false, geteuid(), getegid()};
  const passwd* pw = getpwnam("postgres");
  if (!pw) return std::nullopt;
  return DbUser{true, pw->pw_uid, pw->pw_gid};
}

const std::optional<DbUser>& db_user() {
  static const std::optional<DbUser> user = find_db_user();
  return user;
}

void give_to_db_user(const fs::path& path) {
  const auto& user = db_user();
  if (user && user->switch_to && chown(path.c_str(), user->uid, user->gid) != 0) {
    throw std::system_error(errno, std::generic_category(), "chown postgres " + path.string());
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

// Starts argv as the database user, in cwd, in a new process group it leads, with stdin from
// /dev/null and stdout and stderr appended to log. With a death_signal, the child gets it when
// the calling thread exits. Returns its pid.
pid_t spawn_as_db_user(const std::vector<std::string>& argv, const fs::path& log,
                       const fs::path& cwd, int death_signal) {
  const auto& user = db_user();
  if (!user) throw std::runtime_error("there is no user \"postgres\" to run PostgreSQL as");
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string();
  const std::string dir = cwd.string();
  const pid_t parent = getpid();
  const DbUser as = *user;

  const pid_t pid = fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    setpgid(0, 0);
    if (as.switch_to) {
      if (setgroups(1, &as.gid) != 0 || setgid(as.gid) != 0 || setuid(as.uid) != 0) _exit(126);
    }
    // After the uid change, which clears the death signal.
    if (death_signal != 0) prctl(PR_SET_PDEATHSIG, death_signal);
    if (getppid() != parent) _exit(127);
    if (chdir(dir.c_str()) != 0) _exit(127);
    const int in_fd = open("/dev/null", O_RDONLY);
    const int out_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in_fd < 0 || out_fd < 0) _exit(127);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    close_range(3, ~0U, 0);
    execv(args[0], args.data());
    static const char failed[] = "postgres_server: exec failed\n";
    (void)!write(2, failed, sizeof failed - 1);
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

void kill_group_and_reap(pid_t pid) {
  killpg(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Returns the live (not zombie) children of pid, from /proc.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const std::string text = read_file(entry.path() / "stat");
    const auto paren = text.rfind(')');  // the command name may hold spaces and parentheses
    if (paren == std::string::npos) continue;
    std::istringstream fields(text.substr(paren + 1));
    char state = '?';
    pid_t ppid = 0;
    if (fields >> state >> ppid && ppid == parent && state != 'Z') {
      children.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return children;
}

bool gone(pid_t pid) {
  if (kill(pid, 0) != 0) return true;
  const std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = text.rfind(')');
  return paren == std::string::npos || text.substr(paren + 2, 1) == "Z";
}

// Kills the postmaster and its children with SIGKILL and waits until they are gone. Each
// backend leads a session of its own (PostgreSQL calls setsid() in every child), so killing
// the postmaster's process group is not enough; a backend that outlived its postmaster would
// keep the shared memory attached and stop the next start.
void kill_server(pid_t postmaster) {
  const auto children = children_of(postmaster);
  kill_group_and_reap(postmaster);
  for (pid_t child : children) kill(child, SIGKILL);
  const auto deadline = Clock::now() + 5s;
  for (pid_t child : children) {
    while (!gone(child) && Clock::now() < deadline) std::this_thread::sleep_for(2ms);
  }
}

// Runs argv as the database user to completion (killed after timeout) and returns whether it
// exited with 0. Its output is appended to log.
bool run_as_db_user(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd,
                    std::chrono::milliseconds timeout = 120s) {
  const pid_t pid = spawn_as_db_user(argv, log, cwd, SIGKILL);
  const auto status = wait_for_exit(pid, timeout);
  if (!status) {
    kill_group_and_reap(pid);
    return false;
  }
  return WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

// Returns where servers' directories and the template go: MKV_PG_TMPDIR, else /dev/shm when it
// has room (RAM: nothing is written to disk, which cuts start-up and a test's IO; a data
// directory takes about 25 MB), else /tmp.
fs::path choose_scratch_base() {
  if (const std::string dir = env_or("MKV_PG_TMPDIR", ""); !dir.empty()) return dir;
  struct statvfs shm {};
  const bool roomy = statvfs("/dev/shm", &shm) == 0 &&
                     static_cast<double>(shm.f_bavail) * shm.f_frsize >= 2.0 * (1ull << 30);
  return roomy && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

const fs::path& scratch_base() {
  static const fs::path base = choose_scratch_base();
  return base;
}

// Makes a directory <scratch_base>/<stem>XXXXXX the database user owns; returns its path.
fs::path make_temp_dir(const std::string& stem) {
  std::string pattern = (scratch_base() / (stem + "XXXXXX")).string();
  if (!mkdtemp(pattern.data())) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  give_to_db_user(pattern);
  return pattern;
}

bool process_alive(pid_t pid) {
  return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

// Removes the directories of servers whose test process died without stopping them (a crash
// or SIGKILL: the kernel stopped the server, but nobody removed its data). Each directory names
// its owner in "owner"; one whose owner or postmaster still runs is left alone.
void remove_abandoned_dirs() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(scratch_base(), ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("mkv-pg-") || name.starts_with("mkv-pg-template")) continue;
    const std::string owner = read_file(entry.path() / "owner");
    if (owner.empty()) continue;  // being made right now, or not ours
    const std::string postmaster = read_file(entry.path() / "data" / "postmaster.pid");
    const pid_t owner_pid = static_cast<pid_t>(std::atol(owner.c_str()));
    const pid_t server_pid = static_cast<pid_t>(std::atol(postmaster.c_str()));
    if (process_alive(owner_pid) || process_alive(server_pid)) continue;
    fs::remove_all(entry.path(), ec);
  }
}

// ---------------------------------------------------------------------------------------------
// Data directories

std::vector<std::string> initdb_args(const fs::path& data) {
  return {(bindir() / "initdb").string(), "-D", data.string(), "-A", "trust", "-U", "mkv",
          "--locale=C.UTF-8", "--no-sync",
          // 1 MB WAL segments, not 16: a smaller directory to copy, and no difference to tests.
          "--wal-segsize=1"};
}

// Runs initdb into data (which must not exist); throws with its output on failure.
void initdb(const fs::path& data, const fs::path& log) {
  if (!run_as_db_user(initdb_args(data), log, data.parent_path())) {
    throw std::runtime_error("initdb " + data.string() + " failed:\n" + read_file(log));
  }
}

// initdb takes about 0.6 s of CPU; copying an initdb'd directory, a tenth of that. So each
// machine keeps one template per PostgreSQL build, user and initdb command line, made once
// under an exclusive lock and only ever copied from. The "ready" file, written last after a
// syncfs, marks a complete template. MKV_PG_TEMPLATE=0 turns it off.
fs::path template_root() {
  const std::string version = first_line_of("'" + (bindir() / "postgres").string() + "' --version");
  std::string key = bindir().string() + "\n" + version;
  for (const auto& arg : initdb_args("data")) key += "\n" + arg;
  return scratch_base() /
         ("mkv-pg-template-" + std::to_string(geteuid()) + "-" + hex64(fnv1a(key)));
}

// An exclusive flock on a file, released by the destructor.
class FileLock {
 public:
  explicit FileLock(const fs::path& path)
      : fd_(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open " + path.string());
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        const int error = errno;
        close(fd_);
        throw std::system_error(error, std::generic_category(), "flock " + path.string());
      }
    }
  }
  ~FileLock() { close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

bool template_wanted() {
  return env_or("MKV_PG_TEMPLATE", "1") != "0";
}

// Makes data a copy of the template, making the template first if there is none. Returns
// false (and leaves data absent) if that failed; the caller then runs initdb itself.
bool copy_template(const fs::path& data, const fs::path& log) {
  const fs::path root = template_root();
  try {
    FileLock lock(root.string() + ".lock");
    const bool ready = fs::exists(root / "ready") && fs::exists(root / "data" / "PG_VERSION") &&
                       fs::exists(root / "data" / "global" / "pg_control");
    if (!ready) {
      std::error_code ec;
      fs::remove_all(root, ec);
      fs::create_directory(root);
      give_to_db_user(root);
      initdb(root / "data", root / "initdb.log");
      const int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0) {
        syncfs(fd);  // initdb ran with --no-sync; the template must survive a crash
        close(fd);
      }
      write_file(root / "ready", "");
    }
    // cp -a as the database user keeps the modes (data must be 0700) and the owner.
    return run_as_db_user({"/bin/cp", "-a", (root / "data").string(), data.string()}, log,
                          data.parent_path());
  } catch (const std::exception& e) {
    std::ofstream(log, std::ios::app) << "postgres_server: no template: " << e.what() << "\n";
  }
  std::error_code ec;
  fs::remove_all(data, ec);
  return false;
}

// Marks the template broken, so the next server makes it again.
void discard_template() {
  const fs::path root = template_root();
  FileLock lock(root.string() + ".lock");
  std::error_code ec;
  fs::remove(root / "ready", ec);
}

// ---------------------------------------------------------------------------------------------
// libpq

using PgConn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

PgConn connect_to(const std::string& uri) {
  PgConn conn(PQconnectdb(uri.c_str()), &PQfinish);
  if (!conn) throw std::runtime_error("libpq: out of memory connecting to " + uri);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("cannot connect to " + uri + ": " + PQerrorMessage(conn.get()));
  }
  // Notices ("database does not exist, skipping") would only clutter the test's output.
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

// Runs statement; returns the result and its SQLSTATE ("" on success).
std::pair<PgResult, std::string> exec(PGconn* conn, std::string_view statement) {
  PgResult result(PQexec(conn, std::string(statement).c_str()), &PQclear);
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    return {std::move(result), ""};
  }
  const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
  return {std::move(result), state ? state : "?????"};
}

std::string error_of(PGconn* conn, const PgResult& result) {
  std::string message = result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

std::string quote_identifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string percent_encode(std::string_view text) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PostgresServer

std::string postgres_unavailable() {
  if (bindir().empty()) {
    return "no PostgreSQL binaries (initdb, postgres) in " +
           (std::getenv("MKV_PG_BINDIR") ? std::string("MKV_PG_BINDIR")
                                         : std::string("`pg_config --bindir` or "
                                                       "/usr/lib/postgresql/15/bin")) +
           "; install postgresql-15";
  }
  if (!db_user()) return "running as root and there is no user \"postgres\" to run initdb as";
  if (access("/bin/cp", X_OK) != 0) return "no /bin/cp";
  return "";
}

PostgresServer::PostgresServer() {
  if (const std::string why = postgres_unavailable(); !why.empty()) {
    throw std::runtime_error("cannot start PostgreSQL: " + why);
  }
  remove_abandoned_dirs();
  dir_ = make_temp_dir("mkv-pg-");
  data_dir_ = dir_ / "data";
  write_file(dir_ / "owner", std::to_string(getpid()));
  try {
    const bool copied = template_wanted() && copy_template(data_dir_, dir_ / "log");
    if (!copied) initdb(data_dir_, dir_ / "log");
    // A free port can be taken by another process before the server binds it: try others.
    for (int attempt = 1;; ++attempt) {
      port_ = free_port();
      const auto logged = read_file(dir_ / "log").size();
      try {
        start();
        return;
      } catch (const std::runtime_error&) {
        const std::string news = read_file(dir_ / "log").substr(logged);
        const bool port_taken = news.find("could not bind") != std::string::npos ||
                                news.find("Address already in use") != std::string::npos;
        if (port_taken && attempt < 5) continue;
        if (!copied) throw;
        // A broken template (a /tmp cleaner took files from it?): start over without it.
        discard_template();
        fs::remove_all(data_dir_);
        initdb(data_dir_, dir_ / "log");
        start();
        return;
      }
    }
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

PostgresServer::~PostgresServer() {
  try {
    stop();
  } catch (...) {
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PostgresServer::uri(std::string_view database) const {
  return "postgresql://mkv@127.0.0.1:" + std::to_string(port_) + "/" + percent_encode(database);
}

std::string PostgresServer::log() const {
  return read_file(dir_ / "log");
}

void PostgresServer::start() {
  if (pid_ > 0) return;
  const pid_t pid = spawn_as_db_user(
      {(bindir() / "postgres").string(), "-D", data_dir_.string(), "-p", std::to_string(port_),
       "-k", dir_.string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
       "max_connections=200",
       // Shared memory segments as files in the data directory, removed with it: the posix
       // default leaves them in /dev/shm when the server is stopped with SIGQUIT.
       "-c", "dynamic_shared_memory_type=mmap"},
      dir_ / "log", dir_, SIGQUIT);
  // Ready once a connection gets past start-up (PQping says "rejected" while the server
  // starts or recovers).
  const std::string ping = uri("postgres") + "?connect_timeout=2";
  const auto deadline = Clock::now() + 30s;
  for (;;) {
    if (auto status = wait_for_exit(pid, 0ms)) {
      throw std::runtime_error("postgres exited (status " + std::to_string(*status) +
                               ") before accepting connections on 127.0.0.1:" +
                               std::to_string(port_) + "; its log:\n" + log());
    }
    if (PQping(ping.c_str()) == PQPING_OK) break;
    if (Clock::now() >= deadline) {
      kill_server(pid);
      throw std::runtime_error("postgres did not accept connections on 127.0.0.1:" +
                               std::to_string(port_) + " within 30 s; its log:\n" + log());
    }
    std::this_thread::sleep_for(10ms);
  }
  pid_ = pid;
}

void PostgresServer::stop() {
  if (pid_ <= 0) return;
  // SIGINT is pg_ctl's -m fast (end sessions, checkpoint, exit); SIGQUIT its -m immediate.
  kill(pid_, SIGINT);
  if (!wait_for_exit(pid_, 10s)) {
    kill(pid_, SIGQUIT);
    if (!wait_for_exit(pid_, 5s)) kill_server(pid_);
  }
  pid_ = -1;
}

void PostgresServer::kill9() {
  if (pid_ <= 0) return;
  kill_server(pid_);
  pid_ = -1;
}

void PostgresServer::create_database(std::string_view name) {
  auto conn = connect_to(uri("postgres"));
  const auto [result, state] = exec(conn.get(), "CREATE DATABASE " + quote_identifier(name));
  // 42P04 duplicate_database; 23505 when another session creates the same name at once.
  if (state.empty() || state == "42P04" || state == "23505") return;
  throw std::runtime_error("CREATE DATABASE " + std::string(name) +
                           " failed: " + error_of(conn.get(), result));
}

void PostgresServer::drop_database(std::string_view name) {
  auto conn = connect_to(uri("postgres"));
  const auto [result, state] =
      exec(conn.get(), "DROP DATABASE IF EXISTS " + quote_identifier(name) + " WITH (FORCE)");
  if (!state.empty()) {
    throw std::runtime_error("DROP DATABASE " + std::string(name) +
                             " failed: " + error_of(conn.get(), result));
  }
}

std::string PostgresServer::sql(std::string_view database, std::string_view statement) {
  auto conn = connect_to(uri(database));
  const auto [result, state] = exec(conn.get(), statement);
  if (!state.empty()) {
    throw std::runtime_error("SQL failed in " + std::string(database) + " (" + state +
                             "): " + error_of(conn.get(), result) +
                             "\nstatement: " + std::string(statement));
  }
  std::string text;
  if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK) return text;
  const int rows = PQntuples(result.get());
  const int fields = PQnfields(result.get());
  for (int row = 0; row < rows; ++row) {
    if (row > 0) text += '\n';
    for (int field = 0; field < fields; ++field) {
      if (field > 0) text += '|';
      if (!PQgetisnull(result.get(), row, field)) text += PQgetvalue(result.get(), row, field);
    }
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Standbys

PostgresServer::PostgresServer(Empty) {
  if (const std::string why = postgres_unavailable(); !why.empty()) {
    throw std::runtime_error("cannot start PostgreSQL: " + why);
  }
  remove_abandoned_dirs();
  dir_ = make_temp_dir("mkv-pg-");
  data_dir_ = dir_ / "data";
  write_file(dir_ / "owner", std::to_string(getpid()));
}

std::unique_ptr<PostgresServer> PostgresServer::standby_of(PostgresServer& primary) {
  std::unique_ptr<PostgresServer> standby(new PostgresServer(Empty{}));
  // pg_basebackup connects as "mkv", a superuser (initdb -U), so it may replicate; initdb -A
  // trust wrote pg_hba.conf lines for local replication connections. -R writes standby.signal
  // and primary_conninfo, so the copy starts as a standby streaming from primary; -X stream
  // brings the WAL written during the copy.
  std::vector<std::string> basebackup = {(bindir() / "pg_basebackup").string(), "-D",
                                         standby->data_dir_.string()};
  for (const char* arg : {"-h", "127.0.0.1", "-U", "mkv", "-R", "-X", "stream", "-c", "fast"}) {
    basebackup.emplace_back(arg);
  }
  basebackup.insert(basebackup.end(), {"--no-sync", "-p", std::to_string(primary.port())});
  if (!run_as_db_user(basebackup, standby->dir_ / "log", standby->dir_)) {
    throw std::runtime_error("pg_basebackup of the server on port " +
                             std::to_string(primary.port()) + " failed:\n" + standby->log());
  }
  // A free port can be taken by another process before the server binds it: try others.
  for (int attempt = 1;; ++attempt) {
    standby->port_ = free_port();
    const auto logged = standby->log().size();
    try {
      standby->start();
      break;
    } catch (const std::runtime_error&) {
      const std::string news = standby->log().substr(logged);
      const bool port_taken = news.find("could not bind") != std::string::npos ||
                              news.find("Address already in use") != std::string::npos;
      if (!port_taken || attempt == 5) throw;
    }
  }
  // Started is not streaming yet: the standby connects to primary after replaying the copy.
  const auto deadline = Clock::now() + 30s;
  for (;;) {
    const bool receiving =
        standby->sql("postgres",
                     "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'") == "1";
    const bool sending =
        primary.sql("postgres",
                    "SELECT count(*) > 0 FROM pg_stat_replication WHERE state = 'streaming'") ==
        "t";
    if (receiving && sending) return standby;
    if (Clock::now() >= deadline) {
      throw std::runtime_error("the standby on port " + std::to_string(standby->port()) +
                               " did not stream from port " + std::to_string(primary.port()) +
                               " within 30 s; its log:\n" + standby->log() +
                               "\nthe primary's log:\n" + primary.log());
    }
    std::this_thread::sleep_for(20ms);
  }
}

void PostgresServer::promote() {
  // pg_promote(wait => true) returns once the server left recovery and accepts writes.
  if (sql("postgres", "SELECT pg_promote(true, 30)") != "t") {
    throw std::runtime_error("the standby on port " + std::to_string(port_) +
                             " was not promoted within 30 s; its log:\n" + log());
  }
}

// ---------------------------------------------------------------------------------------------
// shared_postgres

namespace {

// The process's server, started on a thread of its own that lives until exit: the server
// stops when the thread that started it ends, and the first caller's thread may be brief.
class SharedServer {
 public:
  SharedServer() {
    keeper_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      try {
        server_ = std::make_unique<PostgresServer>();
      } catch (...) {
        error_ = std::current_exception();
      }
      started_ = true;
      changed_.notify_all();
      changed_.wait(lock, [this] { return stopping_; });
      server_.reset();
    });
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return started_; });
  }
  ~SharedServer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    keeper_.join();
  }

  PostgresServer& get() {
    if (error_) std::rethrow_exception(error_);
    return *server_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool started_ = false;
  bool stopping_ = false;
  std::unique_ptr<PostgresServer> server_;
  std::exception_ptr error_;
  std::thread keeper_;
};

}  // namespace

PostgresServer& shared_postgres() {
  static SharedServer shared;
  return shared.get();
}

}  // namespace mkv::test
