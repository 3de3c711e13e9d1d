// Microbenchmarks of one index backend, chosen at compile time (MKV_BENCH_SQLITE,
// MKV_BENCH_LMDB or MKV_BENCH_POSTGRES): puts one per apply() and in group-commit batches, gets
// that hit and miss, and a 1000-key prefix listing, each against an index preloaded with 10k
// and 1M keys (MKV_BENCH_KEYS chooses other sizes, e.g. 10000000,100000000).
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

#include <algorithm>
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

// Returns the i-th preloaded key: under data/(i % 10)/, numbered i / 10, so that keys
// 0, 10, 20, ... are in key order under data/0/ (the preload writes them in that order, which
// builds even 100M-key indexes in minutes, not hours).
std::string data_key(std::uint64_t i) {
  char key[64];
  std::snprintf(key, sizeof key, "data/%d/object-%010llu.bin", static_cast<int>(i % prefixes),
                static_cast<unsigned long long>(i / prefixes));
  return key;
}

// Returns the preloaded key for the n-th lookup of an index of count keys: consecutive n land
// far apart.
std::string scattered_key(std::uint64_t n, std::size_t count) {
  return data_key(n * 2654435761u % count);
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
  std::size_t count = 0;

  ~Preloaded() {
    index.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

// Returns where the index of count keys lives: a file in dir, or a new database.
std::string location([[maybe_unused]] const std::filesystem::path& dir, std::size_t count) {
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
  slot->count = count;
  std::vector<mkv::Write> batch;
  // In key order: prefix by prefix, each prefix's keys in their numbering.
  for (std::uint64_t p = 0; p < prefixes; ++p) {
    for (std::uint64_t i = p; i < count; i += prefixes) {
      batch.push_back({data_key(i), bench_record()});
      if (batch.size() == preload_batch) {
        if (!slot->index->apply(batch)) {
          std::fprintf(stderr, "preload failed\n");
          std::exit(1);
        }
        batch.clear();
      }
    }
  }
  if (!batch.empty() && !slot->index->apply(batch)) {
    std::fprintf(stderr, "preload failed\n");
    std::exit(1);
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
    auto got = p.index->get(scattered_key(i++, p.count));
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
  for (std::size_t i = 0; i < 4096; ++i) missing.push_back(scattered_key(i, p.count) + "~");
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto got = p.index->get(missing[i++ % missing.size()]);
    if (!got || *got) state.SkipWithError("get hit");
    benchmark::DoNotOptimize(got);
  }
  state.SetItemsProcessed(state.iterations());
}

// Args: preloaded keys. Lists 1000 keys under one of the prefixes, from a start key that
// lands far from the last one's (from the prefix's beginning where it holds only about 1000).
void BM_list_1000(benchmark::State& state) {
  Preloaded& p = preloaded(static_cast<std::size_t>(state.range(0)));
  // Keys i with 1000 more under their prefix after them: i / 10 + 1000 < count / 10.
  const std::uint64_t starts = p.count > prefixes * 1001 ? p.count - prefixes * 1001 : 0;
  std::uint64_t i = 0;
  std::int64_t listed = 0;
  for (auto _ : state) {
    const std::uint64_t from = starts ? i * 2654435761u % starts : i % prefixes;
    const std::string prefix = "data/" + std::to_string(from % prefixes) + "/";
    ++i;
    auto keys = p.index->list(prefix, starts ? data_key(from) : "", 1000);
    if (!keys || keys->size() != 1000) state.SkipWithError("list came up short");
    listed += static_cast<std::int64_t>(keys ? keys->size() : 0);
    benchmark::DoNotOptimize(keys);
  }
  state.SetItemsProcessed(listed);
}

// The index sizes: MKV_BENCH_KEYS, a comma-separated list (e.g. 10000000,100000000), or
// 10k and 1M.
std::vector<std::int64_t> index_sizes() {
  const char* given = std::getenv("MKV_BENCH_KEYS");
  std::vector<std::int64_t> out;
  std::string list = given && *given ? given : "10000,1000000";
  for (std::size_t at = 0; at <= list.size();) {
    const std::size_t comma = std::min(list.find(',', at), list.size());
    const std::string item = list.substr(at, comma - at);
    char* end = nullptr;
    const long long n = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || n < prefixes) {
      std::fprintf(stderr, "MKV_BENCH_KEYS: want key counts of at least %d, got \"%s\"\n",
                   prefixes, item.c_str());
      std::exit(2);
    }
    out.push_back(n);
    at = comma + 1;
  }
  return out;
}

void sizes(benchmark::internal::Benchmark* b) {
  for (const std::int64_t size : index_sizes()) b->Args({size});
}

void sizes_and_batches(benchmark::internal::Benchmark* b) {
  for (const std::int64_t size : index_sizes()) {
    for (const std::int64_t per_apply : {1, 256, 1024}) b->Args({size, per_apply});
  }
}

}  // namespace

BENCHMARK(BM_put)->Apply(sizes_and_batches)->ArgNames({"keys", "per_apply"})->UseRealTime();
BENCHMARK(BM_get_hit)->Apply(sizes)->ArgNames({"keys"})->UseRealTime();
BENCHMARK(BM_get_miss)->Apply(sizes)->ArgNames({"keys"})->UseRealTime();
BENCHMARK(BM_list_1000)->Apply(sizes)->ArgNames({"keys"})->UseRealTime();

BENCHMARK_MAIN();
