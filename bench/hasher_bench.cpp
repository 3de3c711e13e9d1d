// Microbenchmarks of placement: volumes_for_key over 3, 16 and 128 volumes with r = 1, 2, 3.
// Placement hashes every volume per key (rendezvous hashing), so its cost grows with the
// volume count, not with r; these figures say what one PUT pays to pick its volumes.
#include "mkv/placement.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

std::vector<std::string> volume_urls(std::size_t count) {
  std::vector<std::string> urls;
  for (std::size_t i = 0; i < count; ++i) {
    urls.push_back("http://volume-" + std::to_string(i) + ".storage.internal:8080");
  }
  return urls;
}

// Keys shaped like real object names, varied so nothing is cached between iterations.
std::vector<std::string> keys(std::size_t count) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back("photos/2026/11/" + std::to_string(i * 2654435761u % 1000003u) + "/img.jpg");
  }
  return out;
}

void BM_volumes_for_key(benchmark::State& state) {
  const auto volumes = volume_urls(static_cast<std::size_t>(state.range(0)));
  const auto replicas = static_cast<std::size_t>(state.range(1));
  const auto names = keys(4096);
  std::size_t i = 0;
  for (auto _ : state) {
    auto placement = mkv::volumes_for_key(names[i++ & 4095], volumes, replicas);
    benchmark::DoNotOptimize(placement);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["volumes"] = static_cast<double>(volumes.size());
}

void BM_placement_score(benchmark::State& state) {
  const auto names = keys(4096);
  const std::string volume = "http://volume-0.storage.internal:8080";
  std::size_t i = 0;
  for (auto _ : state) {
    auto score = mkv::placement_score(names[i++ & 4095], volume);
    benchmark::DoNotOptimize(score);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

BENCHMARK(BM_volumes_for_key)->ArgsProduct({{3, 16, 128}, {1, 2, 3}})->ArgNames({"volumes", "r"});
BENCHMARK(BM_placement_score);

BENCHMARK_MAIN();
