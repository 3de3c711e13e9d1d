// Placement: which volumes hold a key, by rendezvous (highest-random-weight) hashing.
//
// The formula is an on-disk contract — rebuild and rebalance depend on it — and is pinned by
// golden vectors in tests/unit/placement_test.cpp:
//
//   score(volume, key) = SHA-256(key || 0x00 || volume)      (32 bytes, compared as a
//                                                              big-endian unsigned number)
//   ranking(key)       = volumes sorted by score, highest first; equal scores (never seen in
//                        practice) fall back to ascending volume URL
//   placement(key, r)  = the first r volumes of ranking(key)
//
// `volume` is the volume URL exactly as configured after normalisation (see volume.h), so
// renaming a volume moves its keys. Keys never contain a NUL byte (key.h rejects it), which
// makes the concatenation unambiguous.
#pragma once

#include "mkv/error.h"

#include <cryptopp/sha.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// A placement score: the SHA-256 digest of key || 0x00 || volume.
using Score = std::array<unsigned char, CryptoPP::SHA256::DIGESTSIZE>;

// Returns score(volume, key) as defined above.
[[nodiscard]] inline Score placement_score(std::string_view key, std::string_view volume) {
  CryptoPP::SHA256 sha;
  const unsigned char separator = 0;
  sha.Update(reinterpret_cast<const CryptoPP::byte*>(key.data()), key.size());
  sha.Update(&separator, 1);
  sha.Update(reinterpret_cast<const CryptoPP::byte*>(volume.data()), volume.size());
  Score score;
  sha.Final(score.data());
  return score;
}

// Returns the indexes of volumes in ranking order for key: index 0 is the volume a GET uses.
[[nodiscard]] inline std::vector<std::size_t> rank_volumes(std::string_view key,
                                                           std::span<const std::string> volumes) {
  std::vector<Score> scores;
  scores.reserve(volumes.size());
  for (const auto& v : volumes) scores.push_back(placement_score(key, v));
  std::vector<std::size_t> order(volumes.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (scores[a] != scores[b]) return scores[a] > scores[b];
    return volumes[a] < volumes[b];
  });
  return order;
}

// Returns the first `replicas` volumes of key's ranking, or not_enough_volumes if fewer
// volumes than that are configured. replicas must be at least 1.
[[nodiscard]] inline Result<std::vector<std::string>> volumes_for_key(
    std::string_view key, std::span<const std::string> volumes, std::size_t replicas) {
  if (volumes.size() < replicas) return Error::not_enough_volumes(replicas, volumes.size());
  const auto order = rank_volumes(key, volumes);
  std::vector<std::string> chosen;
  chosen.reserve(replicas);
  for (std::size_t i = 0; i < replicas; ++i) chosen.push_back(volumes[order[i]]);
  return chosen;
}

// Returns recorded sorted into key's ranking among all (volumes not in all go last, in their
// original order). Rebuild uses it to order the copies it finds.
[[nodiscard]] inline std::vector<std::string> order_by_ranking(std::string_view key,
                                                               std::span<const std::string> all,
                                                               std::vector<std::string> recorded) {
  const auto order = rank_volumes(key, all);
  std::vector<std::string> sorted;
  sorted.reserve(recorded.size());
  for (std::size_t i : order) {
    if (std::find(recorded.begin(), recorded.end(), all[i]) != recorded.end()) {
      sorted.push_back(all[i]);
    }
  }
  for (auto& v : recorded) {
    if (std::find(all.begin(), all.end(), v) == all.end()) sorted.push_back(std::move(v));
  }
  return sorted;
}

}  // namespace mkv
