// Tests of the integration harness itself, against real nginx volumes (MKV_NGINX_CONF) and
// real child processes; nothing here needs the mkv binary.
#include "harness.h"

#include <doctest/doctest.h>

#include <boost/beast/core/error.hpp>
#include <boost/system/system_error.hpp>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <sys/stat.h>

using namespace mkv::test;

namespace {

// Returns a body of n bytes that is not one repeated byte.
std::string pattern(std::size_t n) {
  std::string bytes(n, '\0');
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return bytes;
}

// Writes an executable shell script into dir and returns its path.
std::string write_script(const TempDir& dir, const std::string& name, const std::string& body) {
  const std::string path = (dir.path() / name).string();
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  chmod(path.c_str(), 0755);
  return path;
}

// Sets an environment variable for one scope and restores the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("free_port returns a port that can be bound") {
  const std::uint16_t port = free_port();
  CHECK(port > 0);
  CHECK_FALSE(accepts_connections(port));
}

TEST_CASE("TempDir makes a directory and removes it with its contents") {
  std::filesystem::path kept;
  {
    TempDir dir;
    kept = dir.path();
    CHECK(std::filesystem::is_directory(kept));
    std::filesystem::create_directories(kept / "a" / "b");
    std::ofstream(kept / "a" / "b" / "c") << "x";
  }
  CHECK_FALSE(std::filesystem::exists(kept));

  TempDir shm(TempDir::Under::shm);
  CHECK(shm.path().string().rfind("/dev/shm/", 0) == 0);
}

TEST_CASE("a volume stores, serves and deletes blobs over WebDAV") {
  Volume volume;
  CHECK(volume.url() == "http://127.0.0.1:" + std::to_string(volume.port()));
  CHECK(volume.files().empty());

  CHECK(request(volume.port(), "PUT", "/a/b", "hello").status == 201);
  CHECK(request(volume.port(), "PUT", "/a/b", "hello again").status == 204);
  CHECK(volume.has("a/b"));
  CHECK(volume.read("a/b") == "hello again");

  const Response got = request(volume.port(), "GET", "/a/b");
  CHECK(got.status == 200);
  CHECK(got.body == "hello again");
  CHECK(got.header("content-length") == "11");

  const Response head = request(volume.port(), "HEAD", "/a/b");
  CHECK(head.status == 200);
  CHECK(head.header("content-length") == "11");
  CHECK(head.body.empty());

  CHECK(request(volume.port(), "DELETE", "/a/b").status == 204);
  CHECK_FALSE(volume.has("a/b"));
  CHECK(request(volume.port(), "GET", "/a/b").status == 404);
  CHECK(request(volume.port(), "DELETE", "/a/b").status == 404);
}

TEST_CASE("an empty PUT body is sent with Content-Length: 0 and stores an empty file") {
  Volume volume;
  CHECK(request(volume.port(), "PUT", "/empty").status == 201);
  CHECK(volume.read("empty").empty());
}

TEST_CASE("files() lists every regular file under the data root, sorted") {
  Volume volume;
  volume.write("z", "1");
  volume.write("dir/sub/k", "2");
  volume.write(".hidden", "3");
  std::filesystem::create_directories(volume.data_dir() / "empty-dir");
  CHECK(volume.files() == std::vector<std::string>{".hidden", "dir/sub/k", "z"});
  CHECK(request(volume.port(), "GET", "/dir/sub/k").body == "2");
}

TEST_CASE("MOVE replaces the destination and creates its directories") {
  Volume volume;
  volume.write("staged", "new");
  volume.write("x/y", "old");
  const Response moved =
      request(volume.port(), "MOVE", "/staged", {}, {{"Destination", "/x/y"}});
  CHECK(moved.status == 204);
  CHECK(volume.read("x/y") == "new");
  CHECK(volume.files() == std::vector<std::string>{"x/y"});

  CHECK(request(volume.port(), "MOVE", "/x/y", {}, {{"Destination", volume.url() + "/p/q/r"}})
            .status == 204);
  CHECK(volume.files() == std::vector<std::string>{"p/q/r"});
}

TEST_CASE("the client has no 1 MB response limit and streams chunked bodies") {
  Volume volume;
  const std::string big = pattern(3 * 1024 * 1024 + 17);

  std::size_t sent = 0;
  const Response put = request_chunked(volume.port(), "PUT", "/big", [&]() -> std::optional<std::string> {
    if (sent == big.size()) return std::nullopt;
    const std::size_t n = std::min<std::size_t>(100000, big.size() - sent);
    sent += n;
    return big.substr(sent - n, n);
  });
  CHECK(put.status == 201);
  CHECK(volume.read("big") == big);

  const Response got = request(volume.port(), "GET", "/big");
  CHECK(got.status == 200);
  CHECK(got.body.size() == big.size());
  CHECK(got.body == big);
}

TEST_CASE("an aborted chunked upload leaves nothing behind") {
  Volume volume;
  int calls = 0;
  CHECK_THROWS_AS(request_chunked(volume.port(), "PUT", "/aborted",
                                  [&]() -> std::optional<std::string> {
                                    if (++calls > 3) throw std::runtime_error("client gave up");
                                    return pattern(10000);
                                  }),
                  std::runtime_error);
  // nginx notices the closed connection and drops its temp file; give it up to 20 s (a loaded
  // machine delays it: 5 s was once not enough in CI's sanitizer suite).
  const auto spool = volume.data_dir().parent_path() / "tmp" / "body";
  for (int i = 0; i < 2000 && !std::filesystem::is_empty(spool); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(volume.files().empty());
  CHECK(std::filesystem::is_empty(spool));
}

TEST_CASE("one Connection carries several requests while the server keeps it alive") {
  Volume volume;
  Connection connection(volume.port());
  CHECK(connection.request("PUT", "/k", "v").status == 201);
  CHECK(connection.is_open());
  CHECK(connection.request("GET", "/k").body == "v");
  CHECK(connection.request("DELETE", "/k").status == 204);
  CHECK(connection.is_open());
  CHECK(connection.request("GET", "/k", {}, {{"Connection", "close"}}).status == 404);
  CHECK_FALSE(connection.is_open());
  CHECK(connection.request("GET", "/k").status == 404);  // reconnects
}

TEST_CASE("redirects are returned, not followed, and request_url follows a Location") {
  Volume volume;
  volume.write("dir/k", "x");
  const Response redirect = request(volume.port(), "GET", "/dir");
  CHECK(redirect.status == 301);
  const std::string location = redirect.header("location");
  CHECK(location == volume.url() + "/dir/");

  const Response listing = request_url(location);
  CHECK(listing.status == 200);
  CHECK(listing.header("content-type") == "application/json");
  CHECK(listing.body.find("\"name\":\"k\"") != std::string::npos);

  CHECK(request_url("http://localhost:" + std::to_string(volume.port()) + "/dir/k").body == "x");
  CHECK_THROWS_AS(request_url("https://127.0.0.1/"), std::invalid_argument);
}

TEST_CASE("a stopped volume refuses connections and starts again with its data") {
  Volume volume;
  CHECK(request(volume.port(), "PUT", "/k", "kept").status == 201);
  const pid_t first = volume.pid();

  volume.stop();
  CHECK(volume.pid() == -1);
  CHECK_FALSE(accepts_connections(volume.port()));
  CHECK_THROWS_AS(request(volume.port(), "GET", "/k"), boost::system::system_error);
  volume.stop();  // stopping twice is harmless

  volume.start();
  CHECK(volume.pid() > 0);
  CHECK(volume.pid() != first);
  CHECK(request(volume.port(), "GET", "/k").body == "kept");
}

TEST_CASE("a paused volume accepts connections but never answers") {
  Volume volume(Fault::none, 2);
  volume.write("k", "v");
  volume.pause();
  CHECK(accepts_connections(volume.port()));
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)request(volume.port(), "GET", "/k", {}, {}, 300ms);
    FAIL("a paused volume answered");
  } catch (const boost::system::system_error& error) {
    CHECK(error.code() == boost::beast::error::timeout);
  }
  CHECK(std::chrono::steady_clock::now() - start < 5s);

  volume.resume();
  CHECK(request(volume.port(), "GET", "/k").body == "v");

  volume.pause();  // the destructor stops a paused volume too
}

TEST_CASE("fault put_500 answers PUT with 500 and still serves GET") {
  Volume volume(Fault::put_500);
  volume.write("k", "v");
  const Response put = request(volume.port(), "PUT", "/x", "body");
  CHECK(put.status == 500);
  CHECK(put.header("connection") == "close");
  CHECK_FALSE(volume.has("x"));
  CHECK(request(volume.port(), "GET", "/k").body == "v");
  CHECK(request(volume.port(), "DELETE", "/k").status == 204);
}

TEST_CASE("fault put_507 answers PUT with 507, even for a large body") {
  Volume volume(Fault::put_507);
  CHECK(request(volume.port(), "PUT", "/x", "body").status == 507);
  CHECK(request(volume.port(), "PUT", "/big", pattern(4 * 1024 * 1024)).status == 507);
  CHECK(volume.files().empty());
}

TEST_CASE("raw_exchange returns whatever the server sends back") {
  Volume volume;
  const std::string reply = raw_exchange(volume.port(), "NONSENSE\r\n\r\n", 2s);
  CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);

  const std::string get = raw_exchange(
      volume.port(), "GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 2s);
  CHECK(get.rfind("HTTP/1.1 404", 0) == 0);

  // A request the server waits on: only the timeout ends the exchange.
  const auto start = std::chrono::steady_clock::now();
  CHECK(raw_exchange(volume.port(), "GET / HTTP/1.1\r\n", 200ms).empty());
  CHECK(std::chrono::steady_clock::now() - start >= 200ms);
}

TEST_CASE("run_program returns exit code and output, and kills what runs too long") {
  const RunResult done = run_program("/bin/sh", {"-c", "echo out; echo err >&2; exit 3"});
  CHECK(done.exit_code == 3);
  CHECK_FALSE(done.timed_out);
  CHECK(done.out == "out\n");
  CHECK(done.err == "err\n");

  const auto start = std::chrono::steady_clock::now();
  const RunResult slow = run_program("/bin/sh", {"-c", "sleep 30"}, 200ms);
  CHECK(slow.timed_out);
  CHECK(slow.exit_code == 128 + 9);
  CHECK(std::chrono::steady_clock::now() - start < 5s);

  const RunResult missing = run_program("/nonexistent/program", {});
  CHECK(missing.exit_code == 127);
  CHECK(missing.err.find("exec failed") != std::string::npos);
}

TEST_CASE("Server runs MKV_BIN with the serve command line and reports an early exit") {
  TempDir dir;
  // A stand-in for mkv: serves the port after -p, as `mkv ... serve -p PORT` would, answering
  // every request (the harness waits for one answer) with 200.
  const std::string listener = write_script(dir, "fake-mkv",
      "echo \"args: $*\" >&2\n"
      "while [ $# -gt 0 ]; do [ \"$1\" = -p ] && port=$2; shift; done\n"
      "exec python3 -c 'import socket,sys\n"
      "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
      "s.bind((\"127.0.0.1\", int(sys.argv[1]))); s.listen()\n"
      "while True:\n"
      "  c, _ = s.accept(); c.recv(65536)\n"
      "  c.sendall(b\"HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n\"); c.close()' \"$port\"");
  {
    ScopedEnv bin("MKV_BIN", listener);
    Server server(dir.path() / "index.db", {"http://127.0.0.1:1", "http://127.0.0.1:2"}, 2,
                  {"--threads", "1"});
    CHECK(accepts_connections(server.port()));
    CHECK(server.pid() > 0);
    // (index_location: with MKV_INDEX=postgres, the URI of the database for the path.)
    CHECK(server.log().find("args: -d " + index_location(dir.path() / "index.db") +
                            " -v http://127.0.0.1:1,http://127.0.0.1:2 -r 2 serve -p " +
                            std::to_string(server.port()) + " --bind 127.0.0.1 --threads 1") !=
          std::string::npos);
    server.kill9();
    CHECK(server.pid() == -1);
    CHECK_FALSE(accepts_connections(server.port()));
    server.start();
    CHECK(accepts_connections(server.port()));
    CHECK(server.stop() == 128 + 15);
    CHECK(server.stop() == -1);
  }
  {
    ScopedEnv bin("MKV_BIN", write_script(dir, "failing-mkv", "echo 'cannot open index' >&2; exit 1"));
    try {
      Server server(dir.path() / "index.db", {"http://127.0.0.1:1"}, 1);
      FAIL("Server started a program that exits at once");
    } catch (const std::runtime_error& error) {
      CHECK(std::string(error.what()).find("exited with code 1") != std::string::npos);
      CHECK(std::string(error.what()).find("cannot open index") != std::string::npos);
    }
  }
}
