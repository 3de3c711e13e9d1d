// Microbenchmarks of one index backend, chosen at compile time (MKV_BENCH_SQLITE,
// MKV_BENCH_LMDB or MKV_BENCH_POSTGRES): puts one per apply() and in group-commit batches, gets
// that hit and miss, and a 1000-key prefix listing, each against an index preloaded with 10k
// and 1M keys.
//
// Indexes live in MKV_BENCH_DIR (default /dev/shm, where fsync costs nothing; point it at a
// disk directory to include the cost of durable commits). Each size is built once per run.
// PostgreSQL indexes live in databases mkv_bench_<keys> of the server MKV_BENCH_PG names
// ("postgresql://user@host:port"; bench/run starts a throwaway one), made afresh.
#include "mkv/index.h"
#include "mkv/record.h"

#if defined(MKV_BENCH_SQLITE)
#include "sqlite_index.h"
using BenchIndex = mkv::SqliteIndex;
#elif defined(MKV_BENCH_LMDB)
#include "lmdb_index.h"
using BenchIndex = mkv::LmdbIndex;
#elif defined(MKV_BENCH_POSTGRES)
#include "postgres_index.h"
using BenchIndex = mkv::PostgresIndex;
#else
#error "define MKV_BENCH_SQLITE, MKV_BENCH_LMDB or MKV_BENCH_POSTGRES"
#endif

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace {

constexpr int prefixes = 10;  // preloaded keys spread over data/0/ .. data/9/
constexpr std::size_t preload_batch = 10000;

mkv::Record bench_record() {
  return mkv::Record{{"http://volume-1:8080", "http://volume-2:8080"}, 1024};
}

// Returns the i-th preloaded key; consecutive i land far apart in key order.
std::string data_key(std::uint64_t i) {
  char key[64];
  const std::uint64_t scattered = i * 2654435761u % 100000000u;
  std::snprintf(key, sizeof key, "data/%d/object-%08llu.bin", static_cast<int>(i % prefixes),
                static_cast<unsigned long long>(scattered));
  return key;
}

std::string new_key(std::uint64_t n) {
  char key[64];
  std::snprintf(key, sizeof key, "new/%012llu", static_cast<unsigned long long>(n));
  return key;
}

// An index preloaded with a number of keys, in a directory removed at exit.
struct Preloaded {
  std::filesystem::path dir;
  std::unique_ptr<BenchIndex> index;
  std::vector<std::string> keys;

  ~Preloaded() {
    index.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

// Returns where the index of count keys lives: a file in dir, or a new database.
std::string location(const std::filesystem::path& dir, std::size_t count) {
#if defined(MKV_BENCH_POSTGRES)
  const char* server = std::getenv("MKV_BENCH_PG");
  if (!server) {
    std::fprintf(stderr, "set MKV_BENCH_PG to a PostgreSQL server URI (bench/run does)\n");
    std::exit(1);
  }
  const std::string name = "mkv_bench_" + std::to_string(count);
  auto admin = mkv::pg::connect(std::string(server) + "/postgres");
  if (!admin) {
    std::fprintf(stderr, "%s\n", admin.error().detail.c_str());
    std::exit(1);
  }
  const std::string remake = "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)";
  const std::string make = "CREATE DATABASE " + name;
  if (!mkv::pg::exec_script(admin->get(), "drop", remake.c_str()) ||
      !mkv::pg::exec_script(admin->get(), "create", make.c_str())) {
    std::fprintf(stderr, "cannot make database %s\n", name.c_str());
    std::exit(1);
  }
  return std::string(server) + "/" + name;
#else
  (void)count;
  return (dir / "index").string();
#endif
}

// Returns the index preloaded with count keys, building it on first use.
Preloaded& preloaded(std::size_t count) {
  static std::map<std::size_t, std::unique_ptr<Preloaded>> built;
  auto& slot = built[count];
  if (slot) return *slot;

  const char* base = std::getenv("MKV_BENCH_DIR");
  std::string pattern = std::string(base ? base : "/dev/shm") + "/mkv-index-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  slot = std::make_unique<Preloaded>();
  slot->dir = pattern;
  auto index = BenchIndex::open(location(slot->dir, count));
  if (!index) {
    std::fprintf(stderr, "open: %s\n", index.error().detail.c_str());
    std::exit(1);
  }
  slot->index = std::make_unique<BenchIndex>(std::move(*index));
  slot->keys.reserve(count);
  std::vector<mkv::Write> batch;
  for (std::size_t i = 0; i < count; ++i) {
    slot->keys.push_back(data_key(i));
    batch.push_back({slot->keys.back(), bench_record()});
    if (batch.size() == preload_batch || i + 1 == count) {
      if (!slot->index->apply(batch)) {
        std::fprintf(stderr, "preload failed\n");
        std::exit(1);
      }
      batch.clear();
    }
  }
  return *slot;
}

std::uint64_t next_new_key = 0;

// Removes keys new_key(from) .. new_key(to - 1) again, so the index keeps its size.
void remove_new_keys(BenchIndex& index, std::uint64_t from, std::uint64_t to) {
  std::vector<mkv::Write> batch;
  for (std::uint64_t n = from; n < to; ++n) {
    batch.push_back({new_key(n), std::nullopt});
    if (batch.size() == preload_batch || n + 1 == to) {
      if (!index.apply(batch)) std::exit(1);
      batch.clear();
    }
  }
}

// Args: preloaded keys, writes per apply().
void BM_put(benchmark::State& state) {
  Preloaded& p = preloaded(static_cast<std::size_t>(state.range(0)));
  const auto per_apply = static_cast<std::size_t>(state.range(1));
  const std::uint64_t first = next_new_key;
  std::vector<mkv::Write> batch(per_apply);
  for (auto _ : state) {
    for (auto& write : batch) write = {new_key(next_new_key++), bench_record()};
    if (!p.index->apply(batch)) state.SkipWithError("apply failed");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_apply));
  remove_new_keys(*p.index, first, next_new_key);  // after the timed loop
}

// Args: preloaded keys.
void BM_get_hit(benchmark::State& state) {
  Preloaded& p = preloaded(static_cast<std::size_t>(state.range(0)));
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto got = p.index->get(p.keys[i++ * 7919 % p.keys.size()]);
    if (!got || !*got) state.SkipWithError("get missed");
    benchmark::DoNotOptimize(got);
  }
  state.SetItemsProcessed(state.iterations());
}

// Args: preloaded keys.
void BM_get_miss(benchmark::State& state) {
  Preloaded& p = preloaded(static_cast<std::size_t>(state.range(0)));
  // Present keys with a suffix: each lands between existing keys.
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < 4096; ++i) missing.push_back(p.keys[i * 7919 % p.keys.size()] + "~");
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto got = p.index->get(missing[i++ % missing.size()]);
    if (!got || *got) state.SkipWithError("get hit");
    benchmark::DoNotOptimize(got);
  }
  state.SetItemsProcessed(state.iterations());
}

// Args: preloaded keys. Lists the first 1000 keys under one of the prefixes.
void BM_list_1000(benchmark::State& state) {
  Preloaded& p = preloaded(static_cast<std::size_t>(state.range(0)));
  std::vector<std::string> prefix;
  for (int i = 0; i < prefixes; ++i) prefix.push_back("data/" + std::to_string(i) + "/");
  std::uint64_t i = 0;
  std::int64_t listed = 0;
  for (auto _ : state) {
    auto keys = p.index->list(prefix[i++ % prefixes], "", 1000);
    if (!keys || keys->size() != 1000) state.SkipWithError("list came up short");
    listed += static_cast<std::int64_t>(keys ? keys->size() : 0);
    benchmark::DoNotOptimize(keys);
  }
  state.SetItemsProcessed(listed);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (const std::int64_t size : {10000, 1000000}) b->Args({size});
}

void sizes_and_batches(benchmark::internal::Benchmark* b) {
  for (const std::int64_t size : {10000, 1000000}) {
    for (const std::int64_t per_apply : {1, 256, 1024}) b->Args({size, per_apply});
  }
}

}  // namespace

BENCHMARK(BM_put)->Apply(sizes_and_batches)->ArgNames({"keys", "per_apply"})->UseRealTime();
BENCHMARK(BM_get_hit)->Apply(sizes)->ArgNames({"keys"})->UseRealTime();
BENCHMARK(BM_get_miss)->Apply(sizes)->ArgNames({"keys"})->UseRealTime();
BENCHMARK(BM_list_1000)->Apply(sizes)->ArgNames({"keys"})->UseRealTime();

BENCHMARK_MAIN();
