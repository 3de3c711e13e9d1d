// The index on a filesystem that fills up (a small tmpfs, mounted by the test: needs root,
// else skipped) or in files that cannot be written (chattr +i): writes get `500 database error: ...` and leave no copy on
// the volumes, reads keep working, the server stays up, and writes succeed again once space
// (or write access) returns.
#include "fault.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace mkv::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A tmpfs of the given size mounted on a fresh directory for one scope.
class SmallFilesystem {
 public:
  explicit SmallFilesystem(std::string size) {
    const auto r = run_program("/bin/mount", {"-t", "tmpfs", "-o", "size=" + size, "mkv-fault",
                                              dir_.path().string()}, 10s);
    mounted_ = r.exit_code == 0;
    why_ = r.err;
  }
  ~SmallFilesystem() {
    if (mounted_) (void)run_program("/bin/umount", {"-l", dir_.path().string()}, 10s);
  }
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;

  [[nodiscard]] bool mounted() const { return mounted_; }
  [[nodiscard]] const std::string& why_not() const { return why_; }
  [[nodiscard]] fs::path path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string why_;
};

// Writes path until the filesystem is full; returns the bytes written.
std::size_t fill(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  const std::string block(64 * 1024, 'z');
  std::size_t total = 0;
  for (;;) {
    const ssize_t n = ::write(fd, block.data(), block.size());
    if (n <= 0) break;
    total += static_cast<std::size_t>(n);
  }
  // Small writes take the last partial pages too.
  for (;;) {
    if (::write(fd, "z", 1) != 1) break;
    ++total;
  }
  ::close(fd);
  return total;
}

struct Setup {
  std::vector<std::unique_ptr<Volume>> volumes;
  std::vector<std::string> urls;
  Setup() {
    for (int i = 0; i < 3; ++i) {
      volumes.push_back(std::make_unique<Volume>());
      urls.push_back(volumes.back()->url());
    }
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& v : volumes) {
      for (auto& f : v->files()) out.push_back(v->url() + "/" + f);
    }
    return out;
  }
};

// Returns a long key: index rows of this size exhaust a few pages of free space quickly.
std::string long_key(int i) {
  return "full/" + std::string(200, 'k') + "/" + std::string(200, 'x') + "/" + std::to_string(i);
}

// Returns the target of the i-th key stored before the filesystem fills.
std::string kept(int i) {
  std::string target = "/kept/";
  target += std::to_string(i);
  return target;
}

// Returns the value of the i-th key stored before the filesystem fills.
std::string value(int i) {
  std::string v = "v";
  v += std::to_string(i);
  return v;
}

// Returns the value the client reads for target through the redirect.
std::string fetch(std::uint16_t port, const std::string& target) {
  const auto redirect = request(port, "GET", target);
  REQUIRE(redirect.status == 302);
  return request_url(redirect.header("location")).body;
}

}  // namespace

TEST_CASE("the index filesystem fills up: writes get 500 database error and roll back, reads go "
          "on, and writes work again once space returns") {
  if (index_on_server()) {
    MESSAGE("skipped: the index is a " << index_backend()
                                       << " database, not files on a filesystem to fill");
    return;
  }
  SmallFilesystem small("3m");
  if (!small.mounted()) {
    MESSAGE("cannot mount a tmpfs here (" << small.why_not() << "); skipped");
    return;
  }
  Setup setup;
  Server server(small.path() / "index.db", setup.urls, 2);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(request(server.port(), "PUT", kept(i), value(i)).status == 201);
  }
  const std::size_t filled = fill(small.path() / "filler");
  MESSAGE("filled the tmpfs with " << filled << " bytes");

  // Keep writing until the index needs a page it cannot get.
  int stored = 0;
  std::optional<Response> refused;
  std::string refused_key;
  for (int i = 0; i < 3000 && !refused; ++i) {
    const auto put = request(server.port(), "PUT", target_of(long_key(i)), "value");
    if (put.status == 201) {
      ++stored;
      continue;
    }
    refused = put;
    refused_key = long_key(i);
  }
  MESSAGE(stored << " PUTs fit before the first refusal");
  REQUIRE(refused.has_value());
  CHECK(refused->status == 500);
  CHECK(refused->body.starts_with("database error: "));
  MESSAGE("refused with: " << refused->body);
  CHECK(request(server.port(), "HEAD", target_of(refused_key)).status == 404);
  CHECK(eventually([&] {
    for (const auto& v : setup.volumes) {
      if (v->has(refused_key)) return false;
    }
    return true;
  }));

  // Still full: reads and listings are served, nothing dies, and each write is either refused
  // cleanly or durably stored. (SQLite refuses every commit: each one appends to its WAL.
  // LMDB can still commit small writes into pages its file already holds.)
  const bool lmdb = index_backend() == "lmdb";
  std::vector<std::string> stored_while_full;
  for (int i = 0; i < 5; ++i) {
    const std::string target = "/while-full/" + std::to_string(i);
    const auto put = request(server.port(), "PUT", target, "x");
    if (lmdb && put.status == 201) {
      CHECK(fetch(server.port(), target) == "x");
      stored_while_full.push_back(target.substr(1));
      continue;
    }
    CHECK(put.status == 500);
    CHECK(put.body.starts_with("database error: "));
  }
  for (int i = 0; i < 20; ++i) {
    CHECK(fetch(server.port(), kept(i)) == value(i));
  }
  CHECK(request(server.port(), "GET", "/?prefix=kept/").status == 200);
  CHECK(request(server.port(), "HEAD", "/kept/3").status == 200);
  for (const auto& f : setup.files()) {
    if (f.find("while-full") == std::string::npos) continue;
    const bool indexed = std::any_of(stored_while_full.begin(), stored_while_full.end(),
                                     [&](const std::string& k) { return f.ends_with(k); });
    CHECK(indexed);  // only what was acknowledged may be on a volume
  }

  // Space returns: writes succeed again without a restart, and nothing earlier was lost.
  fs::remove(small.path() / "filler");
  const auto again = request(server.port(), "PUT", "/after/space", "back");
  CHECK(again.status == 201);
  CHECK(fetch(server.port(), "/after/space") == "back");
  for (int i = 0; i < stored; ++i) CHECK(request(server.port(), "HEAD", target_of(long_key(i))).status == 200);
  CHECK(server.stop() == 0);
  server.start();
  CHECK(fetch(server.port(), "/kept/7") == "v7");
  CHECK(fetch(server.port(), "/after/space") == "back");
}

TEST_CASE("the index files turn unwritable (immutable): writes get 500 database error, reads "
          "go on, and writes work again once they are writable") {
  if (index_on_server()) {
    MESSAGE("skipped: the index is a " << index_backend()
                                       << " database, not files to make immutable");
    return;
  }
  TempDir dir;
  Setup setup;
  const fs::path db = dir.path() / "index.db";
  Server server(db, setup.urls, 2);
  REQUIRE(request(server.port(), "PUT", "/ro/before", "old").status == 201);
  // chattr +i: not even root may write the files, also through descriptors already open.
  std::vector<std::string> pinned;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    const auto name = entry.path().filename().string();
    // Not the shared-memory files that are mapped writable (SQLite's -shm, LMDB's -lock
    // reader table): a write through such a mapping into an immutable file kills the
    // process, and they hold no index data.
    if (name.starts_with("index.db") && name != "index.db.lock" && name != "index.db-shm" &&
        name != "index.db-lock") {
      pinned.push_back(entry.path().string());
    }
  }
  std::vector<std::string> args = {"+i"};
  args.insert(args.end(), pinned.begin(), pinned.end());
  if (run_program("/usr/bin/chattr", args, 10s).exit_code != 0) {
    MESSAGE("chattr +i is not supported here; skipped");
    return;
  }
  struct Unpin {
    std::vector<std::string> args;
    bool done = false;
    void operator()() {
      if (!done) (void)run_program("/usr/bin/chattr", args, 10s);
      done = true;
    }
    ~Unpin() { (*this)(); }
  } unpin{{"-i"}};
  unpin.args.insert(unpin.args.end(), pinned.begin(), pinned.end());

  for (int i = 0; i < 5; ++i) {
    const auto put = request(server.port(), "PUT", target_of("ro/new" + std::to_string(i)), "x");
    CHECK(put.status == 500);
    CHECK(put.body.starts_with("database error: "));
    if (i == 0) MESSAGE("refused with: " << put.body);
  }
  const auto overwrite = request(server.port(), "PUT", "/ro/before", "newer");
  CHECK(overwrite.status == 500);
  const auto removal = request(server.port(), "DELETE", "/ro/before");
  CHECK(removal.status == 500);
  CHECK(fetch(server.port(), "/ro/before") == "old");
  CHECK(request(server.port(), "GET", "/?prefix=ro/").status == 200);
  CHECK(eventually([&] {
    for (const auto& f : setup.files()) {
      if (f.find("/ro/new") != std::string::npos || f.find("/.mkv/") != std::string::npos) {
        return false;
      }
    }
    return true;
  }));
  for (const auto& v : setup.volumes) {
    if (v->has("ro/before")) CHECK(v->read("ro/before") == "old");
  }

  unpin();
  CHECK(request(server.port(), "PUT", "/ro/after", "y").status == 201);
  CHECK(request(server.port(), "PUT", "/ro/before", "newer").status == 201);
  CHECK(fetch(server.port(), "/ro/before") == "newer");
  CHECK(server.stop() == 0);
  server.start();
  CHECK(fetch(server.port(), "/ro/before") == "newer");
  CHECK(fetch(server.port(), "/ro/after") == "y");
}
