// The documented deployment: nginx with basic auth (scripts/auth-proxy.conf.in) in front of
// `mkv serve` bound to loopback. Without credentials, or with wrong ones, every request gets
// 401 and nothing is stored; with them, the API works through the proxy unchanged: 201, the
// 302 to the volume, streamed chunked bodies, 204, listings.
#include "fault.h"

#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mkv::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// Returns "Basic base64(user:password)".
std::string basic(std::string_view user_password) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Basic ";
  std::size_t i = 0;
  for (; i + 2 < user_password.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(user_password[i]) << 16) |
                       (static_cast<unsigned char>(user_password[i + 1]) << 8) |
                       static_cast<unsigned char>(user_password[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += table[(n >> s) & 63];
  }
  const std::size_t rest = user_password.size() - i;
  if (rest) {
    unsigned n = static_cast<unsigned char>(user_password[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(user_password[i + 1]) << 8;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += rest == 2 ? table[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// nginx running scripts/auth-proxy.conf.in in front of an mkv server, on a free port.
class AuthProxy {
 public:
  AuthProxy(std::uint16_t upstream, const std::string& user, const std::string& password)
      : port_(free_port()) {
    const auto hashed = run_program("/usr/bin/openssl", {"passwd", "-6", "-salt", "mkvtestsalt", password}, 10s);
    REQUIRE_MESSAGE(hashed.exit_code == 0, hashed.err);
    std::string hash = hashed.out;
    while (!hash.empty() && (hash.back() == '\n' || hash.back() == '\r')) hash.pop_back();
    std::ofstream(dir_.path() / "htpasswd") << user << ":" << hash << "\n";
    fs::create_directories(dir_.path() / "tmp");
    // A root master runs its workers as nobody: they must be able to read the password file.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec | fs::perms::others_read |
                                     fs::perms::others_exec);

    std::string conf = read_file(MKV_AUTH_PROXY_CONF);
    REQUIRE(!conf.empty());
    replace_all(conf, "@DIR@", dir_.path().string());
    replace_all(conf, "@LISTEN@", "127.0.0.1:" + std::to_string(port_));
    replace_all(conf, "@UPSTREAM@", "127.0.0.1:" + std::to_string(upstream));
    replace_all(conf, "@HTPASSWD@", (dir_.path() / "htpasswd").string());
    std::ofstream(dir_.path() / "auth-proxy.conf") << conf;

    const std::string nginx = std::getenv("NGINX") ? std::getenv("NGINX") : "/usr/sbin/nginx";
    const std::string prefix = dir_.path().string();
    const std::string config = (dir_.path() / "auth-proxy.conf").string();
    const std::string out = (dir_.path() / "nginx.out").string();
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execl(nginx.c_str(), nginx.c_str(), "-p", prefix.c_str(), "-c", config.c_str(), nullptr);
      _exit(127);
    }
    setpgid(pid_, pid_);
    const bool up = eventually([&] { return accepts_connections(port_); }, 10s);
    REQUIRE_MESSAGE(up, "the auth proxy did not start: " << read_file(out)
                                                          << read_file(dir_.path() / "auth-proxy.error.log"));
  }
  ~AuthProxy() {
    if (pid_ > 0) {
      killpg(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  AuthProxy(const AuthProxy&) = delete;
  AuthProxy& operator=(const AuthProxy&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  TempDir dir_;
  std::uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("basic auth in front of mkv: 401 without or with wrong credentials, the whole API "
          "with them") {
  Cluster c(3, 2, {"--bind", "127.0.0.1"});
  AuthProxy proxy(c.port(), "alice", "s3cret pass");
  const Headers good{{"Authorization", basic("alice:s3cret pass")}};
  const Headers wrong{{"Authorization", basic("alice:guess")}};
  const Headers nobody{{"Authorization", basic("mallory:s3cret pass")}};

  for (const auto& headers : {Headers{}, wrong, nobody}) {
    for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
             {"PUT", "/secret"}, {"GET", "/secret"}, {"HEAD", "/secret"},
             {"DELETE", "/secret"}, {"GET", "/"}, {"GET", "/?prefix=s"}}) {
      CAPTURE(method);
      CAPTURE(target);
      const auto r = request(proxy.port(), method, target, method == "PUT" ? "stolen" : "", headers);
      CHECK(r.status == 401);
      if (method != "HEAD") CHECK(r.header("www-authenticate") == "Basic realm=\"mkv\"");
    }
  }
  CHECK(c.all_files().empty());

  // With credentials: the API as if mkv were reached directly.
  const auto put = request(proxy.port(), "PUT", "/secret/doc", "classified", good);
  CHECK(put.status == 201);
  const auto get = request(proxy.port(), "GET", "/secret/doc", {}, good);
  REQUIRE(get.status == 302);
  CHECK(get.header("location").starts_with("http://127.0.0.1:"));  // the volume, unchanged
  CHECK(request_url(get.header("location")).body == "classified");
  CHECK(request(proxy.port(), "HEAD", "/secret/doc", {}, good).header("content-length") == "10");
  const auto list = request(proxy.port(), "GET", "/?prefix=secret/", {}, good);
  CHECK(list.status == 200);
  CHECK(list.body == R"({"keys":["secret/doc"],"next":""})");

  // A large chunked body streams through the proxy (no request buffering) and arrives whole.
  std::string piece(256 * 1024, 'p');
  int sent = 0;
  const auto big = request_chunked(proxy.port(), "PUT", "/secret/big", [&]() -> std::optional<std::string> {
    if (sent == 40) return std::nullopt;
    piece[0] = static_cast<char>('a' + sent % 26);
    ++sent;
    return piece;
  }, good);
  CHECK(big.status == 201);
  CHECK(request(proxy.port(), "HEAD", "/secret/big", {}, good).header("content-length") ==
        std::to_string(40 * 256 * 1024));
  // mkv's own errors come back through the proxy unchanged.
  const auto bad = request(proxy.port(), "PUT", "/a/../b", "x", good);
  CHECK(bad.status == 400);
  CHECK(bad.body == "invalid key: dot segment\n");
  CHECK(request(proxy.port(), "DELETE", "/secret/doc", {}, good).status == 204);
  CHECK(request(proxy.port(), "GET", "/secret/doc", {}, good).status == 404);

  // mkv itself listens on loopback only (--bind 127.0.0.1): other hosts reach it only through
  // the proxy.
  CHECK(c.server->log().find("on 127.0.0.1:") != std::string::npos);
}

namespace {

// The volume hardening docs/security.md gives: WebDAV writes only from mkv's address, reads
// from anywhere (clients follow mkv's redirects to the volumes).
constexpr std::string_view writers_only = "            limit_except GET HEAD { allow 127.0.0.1; deny all; }\n";

// Returns the status of one request sent to port from the local address source.
unsigned status_from(const char* source, std::uint16_t port, const std::string& method,
                     const std::string& target) {
  RawSocket s(port, source);
  REQUIRE(s.connected());
  REQUIRE(s.send(method + " " + target + " HTTP/1.1\r\nHost: v\r\nConnection: close\r\n"
                 "Content-Length: 5\r\n\r\nevil!"));
  return first_status(s.receive(5s));
}

}  // namespace

TEST_CASE("volumes that take writes only from mkv: clients elsewhere read through the redirect "
          "but cannot PUT, DELETE or MOVE") {
  TempDir templates;
  std::string conf = read_file(MKV_HARNESS_NGINX_CONF);
  const auto extra = conf.rfind("@EXTRA@");  // the placeholder line (the first is in a comment)
  REQUIRE(extra != std::string::npos);
  conf.insert(extra, writers_only);
  const auto path = templates.path() / "volume.conf.in";
  std::ofstream(path) << conf;
  const char* old = std::getenv("MKV_NGINX_CONF");
  const std::string saved = old ? old : "";
  setenv("MKV_NGINX_CONF", path.c_str(), 1);
  std::unique_ptr<Cluster> c;
  try {
    c = std::make_unique<Cluster>();
  } catch (...) {
    setenv("MKV_NGINX_CONF", saved.c_str(), 1);
    throw;
  }
  setenv("MKV_NGINX_CONF", saved.c_str(), 1);

  // mkv (connecting from 127.0.0.1) writes, overwrites (staging + MOVE) and deletes as usual.
  REQUIRE(c->put("/doc", "first").status == 201);
  REQUIRE(c->put("/doc", "second").status == 201);
  REQUIRE(c->put("/gone", "x").status == 201);
  REQUIRE(c->del("/gone").status == 204);
  CHECK(c->holders("gone").empty());

  // A client on another address (127.0.0.2) follows the redirect and reads...
  const auto location = c->get("/doc").header("location");
  const auto colon = location.find(':', 7);
  const auto slash = location.find('/', colon);
  const auto port = static_cast<std::uint16_t>(std::stoul(location.substr(colon + 1, slash - colon - 1)));
  const std::string target = location.substr(slash);
  CHECK(status_from("127.0.0.2", port, "GET", target) == 200);
  CHECK(status_from("127.0.0.2", port, "HEAD", target) == 200);
  // ...but cannot write, delete, move or wipe anything on the volume.
  for (const std::string method : {"PUT", "DELETE", "MOVE", "MKCOL", "COPY", "POST"}) {
    CAPTURE(method);
    CHECK(status_from("127.0.0.2", port, method, target) == 403);
  }
  CHECK(status_from("127.0.0.2", port, "DELETE", "/") == 403);
  CHECK(c->fetch("/doc") == "second");
  for (auto i : c->holders("doc")) CHECK(c->volumes[i]->read("doc") == "second");
}
