// The group-commit writer in process, over a real index: writes queued together share a
// transaction, each learns its own outcome, a failed condition fails only its own write, and a
// write the index refuses fails alone.
#include "in_process.h"

#include "index/writer.h"

#include <memory>
#include <string>
#include <vector>

using namespace mkv;
using namespace mkv::test;
using namespace std::chrono_literals;

namespace {

// Applies write through the writer and stores what became of it.
net::awaitable<void> apply_one(IndexWriter& writer, Write write, Result<Applied>& outcome) {
  outcome = co_await writer.apply(write);
}

// Applies every write at once, each from its own coroutine, and returns their outcomes.
net::awaitable<std::vector<Result<Applied>>> apply_together(IndexWriter& writer,
                                                            std::vector<Write> writes) {
  std::vector<Result<Applied>> outcomes(writes.size(), Error::database("not run"));
  co_await run_all(writes.size(), [&](std::size_t i) {
    return apply_one(writer, writes[i], outcomes[i]);
  });
  co_return outcomes;
}

Record record(std::uint64_t size) { return Record{{"http://v1:80"}, size}; }

// A real index in a temporary directory, its writer, and a thread to run coroutines on.
struct WriterFixture {
  TempDir dir;
  IndexBackend index = open_backend(dir.path() / "index");
  IndexWriter writer{index};
  IoThread io;

  std::vector<Result<Applied>> apply(std::vector<Write> writes) {
    return io.run(apply_together(writer, std::move(writes)));
  }
};

}  // namespace

TEST_CASE("writes queued together share transactions, and each is applied") {
  WriterFixture f;
  std::vector<Write> writes;
  for (int i = 0; i < 200; ++i) writes.push_back({"k/" + std::to_string(i), record(i)});
  const auto outcomes = f.apply(writes);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    CAPTURE(i);
    REQUIRE(outcomes[i].has_value());
    CHECK(*outcomes[i] == Applied::written);
    CHECK(f.index.get(writes[i].key).value() == writes[i].record);
  }
  CHECK(f.writer.transactions() < 100);  // one durable commit served many writes
}

TEST_CASE("a failed condition is its own write's outcome only") {
  WriterFixture f;
  REQUIRE(f.index.apply(std::vector<Write>{{"held", record(1)}, {"taken", record(2)}}).has_value());
  std::vector<Write> writes = {
      {"held", record(10), Expected::record(record(1))},
      {"taken", record(20), Expected::absent()},
      {"fresh", record(30), Expected::absent()},
      {"gone", std::nullopt, Expected::record(record(4))},
  };
  for (int i = 0; i < 50; ++i) writes.push_back({"plain/" + std::to_string(i), record(i)});
  const auto outcomes = f.apply(writes);
  REQUIRE(outcomes.size() == writes.size());
  CHECK(outcomes[0].value() == Applied::written);
  CHECK(outcomes[1].value() == Applied::condition_failed);
  CHECK(outcomes[2].value() == Applied::written);
  CHECK(outcomes[3].value() == Applied::condition_failed);
  for (std::size_t i = 4; i < outcomes.size(); ++i) CHECK(outcomes[i].value() == Applied::written);
  CHECK(f.index.get("held").value() == record(10));
  CHECK(f.index.get("taken").value() == record(2));
  CHECK(f.index.get("fresh").value() == record(30));
}

TEST_CASE("a write the index refuses fails alone; the others of its batch are applied") {
  WriterFixture f;
  std::vector<Write> writes;
  for (int i = 0; i < 60; ++i) {
    // The index refuses an empty key, failing the whole transaction it is in.
    writes.push_back({i == 30 ? std::string() : "k/" + std::to_string(i), record(i)});
  }
  const auto outcomes = f.apply(writes);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    CAPTURE(i);
    if (i == 30) {
      REQUIRE_FALSE(outcomes[i].has_value());
      CHECK(outcomes[i].error().code == errc::database);
    } else {
      REQUIRE(outcomes[i].has_value());
      CHECK(f.index.get(writes[i].key).value() == writes[i].record);
    }
  }
}
