// Random names for the files mkv writes under a volume's /.mkv/ (staged overwrites, repairs,
// capability checks).
#pragma once

#include <random>
#include <string>

namespace mkv {

// Returns 32 × words random bits (from the system's random device) as lower-case hex.
inline std::string random_token(int words) {
  std::random_device random;
  static constexpr char digits[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < words; ++i) {
    const auto word = random();
    for (int shift = 0; shift < 32; shift += 4) token.push_back(digits[(word >> shift) & 0xF]);
  }
  return token;
}

}  // namespace mkv
