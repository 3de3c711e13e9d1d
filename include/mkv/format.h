// Numbers, durations and lists for people: the building blocks of the text the operations
// commands print (rebuild_report.h, rebalance_report.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>

namespace mkv {

// Returns bytes for people: "512 B", "1.5 KiB", "4.0 GiB" (binary units, one decimal).
[[nodiscard]] inline std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  std::size_t u = 0;
  std::uint64_t unit = 1024;
  while (u + 1 < std::size(units) && bytes / unit >= 1024) {
    unit *= 1024;
    ++u;
  }
  std::uint64_t whole = bytes / unit;
  std::uint64_t tenths = ((bytes % unit) * 10 + unit / 2) / unit;
  if (tenths == 10) {
    whole += 1;
    tenths = 0;
  }
  return std::to_string(whole) + '.' + std::to_string(tenths) + ' ' + units[u];
}

// Returns count / seconds rounded down, or 0 when no time has passed.
[[nodiscard]] inline std::uint64_t per_second(std::uint64_t count, double seconds) {
  if (!(seconds > 0)) return 0;
  return static_cast<std::uint64_t>(static_cast<double>(count) / seconds);
}

// Returns count per second as text: one decimal below 10 ("0.9", "2.7"), whole above ("5611").
[[nodiscard]] inline std::string format_rate(std::uint64_t count, double seconds) {
  if (!(seconds > 0)) return "0";
  const double rate = static_cast<double>(count) / seconds;
  if (rate >= 10) return std::to_string(static_cast<std::uint64_t>(rate));
  const auto tenths = static_cast<std::uint64_t>(rate * 10);
  return std::to_string(tenths / 10) + '.' + std::to_string(tenths % 10);
}

// Returns a duration for people: "0.2 s" and "59.9 s" (one decimal, rounded down) below a
// minute, "4 min 5 s" below an hour, "2 h 3 min" beyond.
[[nodiscard]] inline std::string format_duration(double seconds) {
  if (!(seconds > 0)) seconds = 0;
  const auto tenths = static_cast<std::uint64_t>(seconds * 10);
  if (tenths < 600) return std::to_string(tenths / 10) + '.' + std::to_string(tenths % 10) + " s";
  const std::uint64_t whole = tenths / 10;
  if (whole < 3600) {
    return std::to_string(whole / 60) + " min " + std::to_string(whole % 60) + " s";
  }
  return std::to_string(whole / 3600) + " h " + std::to_string(whole % 3600 / 60) + " min";
}

// Returns items joined by separator.
[[nodiscard]] inline std::string join(std::span<const std::string> items,
                                      std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

// Returns s with spaces in front up to width characters (a table column aligned right).
[[nodiscard]] inline std::string pad_left(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

// Returns s with spaces after it up to width characters (a table column aligned left).
[[nodiscard]] inline std::string pad_right(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace mkv
