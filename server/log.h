// One-line diagnostics on stderr, each written with a single write(2) so lines from
// different threads never interleave; and times as they are shown (RFC 3339, UTC).
#pragma once

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>

namespace mkv {

// Returns t as "YYYY-MM-DDTHH:MM:SSZ".
inline std::string format_utc(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(stamp, n);
}

// Writes "YYYY-MM-DDTHH:MM:SSZ mkv: message" and a newline to stderr.
inline void log_line(std::string_view message) {
  std::string line = format_utc(std::chrono::system_clock::now());
  line += " mkv: ";
  line += message;
  line.push_back('\n');
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace mkv
