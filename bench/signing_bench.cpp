// Microbenchmark of signing a redirect (mkv/signed_link.h): what `serve --redirect-secret` adds
// to every GET it answers with a 302 (and to every request mkv sends a signed volume). Compare
// it with the CPU an index-only GET costs mkv (bench/http/run: ~40 us on the 2-core VM).
#include "mkv/signed_link.h"
#include "mkv/volume.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr const char* secret = "dGVzdC1zZWNyZXQtZm9yLW1rdi1zaWduZWQtbGlua3M=";

void BM_sign_redirect(benchmark::State& state) {
  std::vector<std::string> locations;
  for (int i = 0; i < 4096; ++i) {
    locations.push_back(mkv::volume_location("http://127.0.0.1:8081",
                                             "bench/" + std::to_string(i % 97) + "/key-" +
                                                 std::to_string(i)));
  }
  std::int64_t expires = 1764500000;
  std::size_t i = 0;
  for (auto _ : state) {
    auto signed_location = mkv::sign_target(locations[i++ & 4095], "GET", ++expires, secret);
    benchmark::DoNotOptimize(signed_location);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_sign_redirect);

void BM_volume_location_unsigned(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    auto location = mkv::volume_location("http://127.0.0.1:8081",
                                         "bench/" + std::to_string(i % 97) + "/key-" +
                                             std::to_string(i));
    ++i;
    benchmark::DoNotOptimize(location);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_volume_location_unsigned);

}  // namespace

BENCHMARK_MAIN();
