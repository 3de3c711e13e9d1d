// Volume health: the state `serve` keeps for each volume and how what it sees of the volume
// (the outcomes of its own requests, and an active probe) changes it. Hysteresis as HAProxy's
// rise/fall: a volume goes down after `fall` failures in a row and, after `rise` answers in a
// row, has its capabilities checked before it counts as up again.
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

enum class VolumeState {
  up,          // takes reads and writes
  down,        // does not answer (refused, timed out, reset) or answers 5xx
  unwritable,  // answers, but refuses writes or lacks a capability mkv needs
};

// Returns "up", "down" or "unwritable".
[[nodiscard]] constexpr std::string_view state_name(VolumeState s) {
  switch (s) {
    case VolumeState::up: return "up";
    case VolumeState::down: return "down";
    case VolumeState::unwritable: return "unwritable";
  }
  return "unknown";  // unreachable: every state is handled above
}

// The thresholds of the state changes.
struct HealthRules {
  unsigned fall = 3;      // failures in a row that take a volume down
  unsigned rise = 2;      // answers in a row after which a down volume is checked to come back
  unsigned recheck = 30;  // answers in a row after which an unwritable volume is checked again
};

// What mkv saw of a volume.
enum class Seen {
  answered,   // it answered a request or a probe (a status below 500)
  failed,     // it refused the connection, timed out, reset it, or answered 5xx
  capable,    // its capability check passed
  incapable,  // its capability check failed: it answers, but cannot take mkv's writes
};

// A volume's health: its state and the runs of outcomes that move it.
struct Health {
  VolumeState state = VolumeState::up;
  std::uint32_t failures = 0;   // failures in a row
  std::uint32_t successes = 0;  // answers in a row

  friend bool operator==(const Health&, const Health&) = default;
};

// The health after one observation, and what the IO side must do about it.
struct HealthStep {
  Health health;
  bool changed = false;             // the state is not what it was
  bool check_capabilities = false;  // run the capability check and report capable/incapable

  friend bool operator==(const HealthStep&, const HealthStep&) = default;
};

// Returns the health of a volume after it was seen as `seen`.
[[nodiscard]] constexpr HealthStep observe(Health h, Seen seen, HealthRules rules = {}) {
  HealthStep step;
  const VolumeState before = h.state;
  switch (seen) {
    case Seen::answered:
      h.failures = 0;
      if (h.successes < UINT32_MAX) h.successes += 1;
      if (h.state == VolumeState::down && h.successes == rules.rise) {
        step.check_capabilities = true;
      } else if (h.state == VolumeState::unwritable && rules.recheck > 0 &&
                 h.successes % rules.recheck == 0) {
        step.check_capabilities = true;
      }
      break;
    case Seen::failed:
      h.successes = 0;
      if (h.failures < UINT32_MAX) h.failures += 1;
      if (h.failures >= rules.fall) h.state = VolumeState::down;
      break;
    case Seen::capable:
      h.failures = 0;
      h.state = VolumeState::up;
      break;
    case Seen::incapable:
      h.failures = 0;
      h.state = VolumeState::unwritable;
      break;
  }
  step.health = h;
  step.changed = h.state != before;
  return step;
}

// Returns whether a volume in state s takes reads (a GET may be redirected to it).
[[nodiscard]] constexpr bool readable(VolumeState s) { return s != VolumeState::down; }

// Returns whether a volume in state s takes writes.
[[nodiscard]] constexpr bool writable(VolumeState s) { return s == VolumeState::up; }

// Returns the position in states (the states of a record's volumes, in its order) of the volume
// a GET redirects to: the first that is not down; the first of all when every one is down (a
// redirect that may fail beats a refusal, and the volume may be back by the time the client
// follows it).
[[nodiscard]] inline std::size_t pick_readable(std::span<const VolumeState> states) {
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (readable(states[i])) return i;
  }
  return 0;
}

// One volume in the health report.
struct VolumeReport {
  std::string url;
  VolumeState state = VolumeState::up;
  std::string since;       // when it entered that state (RFC 3339, UTC)
  std::string last_error;  // the last failure seen of it, "" if none

  friend bool operator==(const VolumeReport&, const VolumeReport&) = default;
};

// The health of a server, as GET /.mkv/health reports it.
struct HealthReport {
  std::string index_error;  // why the index cannot be read, "" when it can
  std::vector<VolumeReport> volumes;

  friend bool operator==(const HealthReport&, const HealthReport&) = default;
};

// Returns the overall status: "failing" when the index cannot be read, "degraded" when a volume
// is not up, "ok" otherwise.
[[nodiscard]] inline std::string_view overall_status(const HealthReport& r) {
  if (!r.index_error.empty()) return "failing";
  for (const auto& v : r.volumes) {
    if (v.state != VolumeState::up) return "degraded";
  }
  return "ok";
}

// Returns the HTTP status of the report: 503 when the index cannot be read, else 200.
[[nodiscard]] inline unsigned health_http_status(const HealthReport& r) {
  return r.index_error.empty() ? 200 : 503;
}

// Stores v in j as {"url":...,"state":...,"since":...,"last_error":...} (Boost.JSON value_from).
inline void tag_invoke(boost::json::value_from_tag, boost::json::value& j, const VolumeReport& v) {
  j = {{"url", v.url},
       {"state", state_name(v.state)},
       {"since", v.since},
       {"last_error", v.last_error}};
}

// Returns the JSON body of the report: {"status":...,"index":...,"volumes":[...]}, where index
// is "ok" or why it cannot be read.
[[nodiscard]] inline std::string encode_health(const HealthReport& r) {
  const boost::json::value body = {
      {"status", overall_status(r)},
      {"index", r.index_error.empty() ? std::string("ok") : r.index_error},
      {"volumes", boost::json::value_from(r.volumes)}};
  return boost::json::serialize(body);
}

}  // namespace mkv
