// Index conformance: a writer process killed at an arbitrary moment leaves an index that
// opens, holds every batch it acknowledged, and holds each batch wholly or not at all.
#include "index_under_test.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

using mkv::Write;

namespace {

constexpr int keys_per_batch = 200;

// Returns the prefix of batch b's keys.
std::string batch_prefix(std::uint64_t b) {
  char text[32];
  std::snprintf(text, sizeof text, "batch/%08llu/", static_cast<unsigned long long>(b));
  return text;
}

// Returns batch b: its keys (sized b), the key "counter" set to b, and the deletion of the
// first key of batch b - 1.
std::vector<Write> make_batch(std::uint64_t b) {
  std::vector<Write> batch;
  for (int i = 0; i < keys_per_batch; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "%03d", i);
    batch.push_back(put(batch_prefix(b) + key + std::string(i % 7 * 100, 'x'), record(b)));
  }
  batch.push_back(put("counter", record(b)));
  if (b > 0) batch.push_back(erase(batch_prefix(b - 1) + "000"));
  return batch;
}

// In the child: writes batches after the last committed one until killed, telling the parent
// through fd how many batches in total are committed after each apply() returns.
[[noreturn]] void write_until_killed(const std::string& path, int fd) {
  auto index = IndexUnderTest::open(path);
  if (!index) _exit(2);
  const auto counter = index->get("counter");
  if (!counter) _exit(3);
  std::uint64_t next = *counter ? (*counter)->size + 1 : 0;
  for (;; ++next) {
    if (!index->apply(make_batch(next))) _exit(4);
    const std::uint64_t committed = next + 1;
    if (write(fd, &committed, sizeof committed) != sizeof committed) _exit(5);
  }
}

}  // namespace

TEST_CASE("a writer killed mid-batch leaves whole batches and keeps acknowledged ones") {
  ScratchDir dir;
  const int delays_ms[] = {0, 3, 17, 41};
  for (const int delay : delays_ms) {
    CAPTURE(delay);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(fds[0]);
      write_until_killed(dir.index_path(), fds[1]);
    }
    close(fds[1]);

    // Let the child commit a few batches, then kill it wherever it is.
    std::uint64_t acknowledged = 0;
    std::uint64_t seen_this_round = 0;
    while (seen_this_round < 5) {
      REQUIRE(read(fds[0], &acknowledged, sizeof acknowledged) == sizeof acknowledged);
      ++seen_this_round;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    std::uint64_t later = 0;
    while (read(fds[0], &later, sizeof later) == sizeof later) acknowledged = later;
    close(fds[0]);

    auto index = open_index(dir.index_path());
    const auto counter = get_ok(index, "counter");
    REQUIRE(counter.has_value());
    const std::uint64_t last = counter->size;
    CHECK(last + 1 >= acknowledged);

    // Count the keys of every batch; each must be whole: all its keys, minus the first one
    // that the next batch deleted.
    std::map<std::uint64_t, int> keys_in_batch;
    for (const auto& entry : scan_all(index, 5000)) {
      if (entry.key == "counter") continue;
      const std::uint64_t b = std::stoull(entry.key.substr(6, 8));
      CHECK(entry.key.starts_with(batch_prefix(entry.record.size)));
      ++keys_in_batch[b];
    }
    REQUIRE(keys_in_batch.size() == last + 1);
    for (const auto& [b, n] : keys_in_batch) {
      CAPTURE(b);
      CHECK(n == (b == last ? keys_per_batch : keys_per_batch - 1));
    }
    CHECK(get_ok(index, batch_prefix(last) + "000").has_value());
    if (last > 0) CHECK_FALSE(get_ok(index, batch_prefix(last - 1) + "000").has_value());
  }
}
