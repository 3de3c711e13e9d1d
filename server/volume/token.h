// Random names for the files mkv writes under a volume's /.mkv/ (staged overwrites, repairs,
// capability checks), and S3 request IDs.
#pragma once

#include <array>
#include <random>
#include <string>

namespace mkv {

// Returns 32 × words random bits as lower-case hex. The bits come from a generator each thread
// seeds once from the system's random device with 256 bits (a device read per call cost more
// than the rest of an S3 GET's bookkeeping), so two processes never share a sequence.
inline std::string random_token(int words) {
  thread_local std::mt19937 generator = [] {
    std::random_device device;
    std::array<std::uint32_t, 8> seed{};
    for (auto& word : seed) word = device();
    std::seed_seq sequence(seed.begin(), seed.end());
    return std::mt19937(sequence);
  }();
  static constexpr char digits[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < words; ++i) {
    const auto word = generator();
    for (int shift = 0; shift < 32; shift += 4) token.push_back(digits[(word >> shift) & 0xF]);
  }
  return token;
}

}  // namespace mkv
