// Index conformance: many reader threads run get, list and scan while a writer applies
// batches, and each read sees one committed state.
#include "index_under_test.h"

#include <atomic>
#include <chrono>
#include <cstdio>

using mkv::Write;

namespace {

constexpr int slots = 50;  // keys every batch overwrites
constexpr int new_per_batch = 10;

std::string slot_key(int i) { return "w/" + std::to_string(100 + i); }

std::string new_prefix(std::uint64_t b) {
  char text[32];
  std::snprintf(text, sizeof text, "new/%06llu/", static_cast<unsigned long long>(b));
  return text;
}

// Batch b: every slot key and "counter" set to b, plus new_per_batch new keys.
std::vector<Write> make_batch(std::uint64_t b) {
  std::vector<Write> batch;
  for (int i = 0; i < slots; ++i) batch.push_back(put(slot_key(i), record(b)));
  for (int i = 0; i < new_per_batch; ++i) {
    batch.push_back(put(new_prefix(b) + std::to_string(i) + std::string(i * 60, 'n'), record(b)));
  }
  batch.push_back(put("counter", record(b)));
  return batch;
}

}  // namespace

TEST_CASE("readers on many threads see whole batches while a writer applies") {
  constexpr std::uint64_t batches = 200;
  constexpr int reader_threads = 6;
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  apply_ok(index, make_batch(0));

  std::atomic<long> errors{0}, torn{0}, stale{0}, reads{0};
  LoopingThreads readers(reader_threads, [&](int t) {
    const auto counter = index.get("counter");
    if (!counter || !*counter) {
      ++errors;
      return;
    }
    const std::uint64_t floor = (*counter)->size;
    // One scan is one snapshot: every slot holds the same batch, no older than counter.
    const auto entries = index.scan("w/", slots);
    if (!entries || entries->size() != slots) {
      ++errors;
      return;
    }
    const std::uint64_t seen = entries->front().record.size;
    for (const auto& e : *entries) {
      if (e.record.size != seen) ++torn;
    }
    if (seen < floor) ++stale;
    // The batch the scan saw is whole in a later listing.
    const auto added = index.list(new_prefix(seen), "", 100);
    if (!added) {
      ++errors;
      return;
    }
    if (added->size() != new_per_batch) ++torn;
    const auto slot = index.get(slot_key(t % slots));
    if (!slot || !*slot) {
      ++errors;
      return;
    }
    if ((*slot)->size < seen) ++stale;
    ++reads;
  });
  for (std::uint64_t b = 1; b <= batches; ++b) apply_ok(index, make_batch(b));
  // Keep reading a little after the last batch, so readers also overlap an idle writer.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  readers.stop();

  CHECK(errors.load() == 0);
  CHECK(torn.load() == 0);
  CHECK(stale.load() == 0);
  CHECK(reads.load() > 0);
  MESSAGE("reads while writing: " << reads.load());
  CHECK(get_ok(index, "counter") == record(batches));
  CHECK(list_paged(index, "new/", 100).size() == (batches + 1) * new_per_batch);
}
