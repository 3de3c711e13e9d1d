// This machine's wall clock as the index records times: whole seconds since the Unix epoch.
#pragma once

#include <chrono>
#include <cstdint>

namespace mkv {

// Returns the time now, in seconds since the epoch.
inline std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace mkv
