// One-line diagnostics on stderr, each written with a single write(2) so lines from
// different threads never interleave.
#pragma once

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>

namespace mkv {

// Writes "YYYY-MM-DDTHH:MM:SSZ mkv: message" and a newline to stderr.
inline void log_line(std::string_view message) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ mkv: ", &utc);
  std::string line(stamp, n);
  line += message;
  line.push_back('\n');
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace mkv
