// The capability check of a volume: the requests that show it can take what mkv sends it
// (PUT, MOVE, DELETE under mkv's own /.mkv/ area, and JSON directory listings for rebuild), and
// what a failed one says about the volume's nginx configuration.
#pragma once

#include "mkv/autoindex.h"
#include "mkv/key.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// The steps of the check, in the order they run.
enum class CapabilityStep {
  put,     // PUT a small file at /.mkv/check/<token>
  move,    // MOVE it to /.mkv/check/<token>.moved (overwrites are staged, then moved)
  list,    // GET /.mkv/check/ as JSON (rebuild reads listings)
  remove,  // DELETE /.mkv/check/<token>.moved
};

// Returns the target of the check's file on a volume whose path prefix is prefix ("" or
// "/prefix"), before (moved = false) or after its MOVE.
[[nodiscard]] inline std::string capability_target(std::string_view prefix, std::string_view token,
                                                   bool moved) {
  std::string target(prefix);
  target += '/';
  target += reserved_segment;
  target += "/check/";
  target += token;
  if (moved) target += ".moved";
  return target;
}

// Returns the directory the check lists: "<prefix>/.mkv/check/".
[[nodiscard]] inline std::string capability_directory(std::string_view prefix) {
  return std::string(prefix) + '/' + std::string(reserved_segment) + "/check/";
}

// How much older than this check's own file a file in the check directory must be to count as
// left behind (by a check cut short when its volume went away). Checks by several servers
// sharing a volume run at the same moment (at start-up, or when the volume comes back), each
// for well under a second, so a younger file may be another server's check under way.
inline constexpr std::int64_t stale_check_seconds = 600;

// Returns the names of the files in the check directory's listing that checks cut short left
// behind: those written stale_check_seconds or more before own (this check's moved file, which
// the listing must name). Both times come from the volume's clock, so a clock that differs
// from mkv's does not matter. Empty when own is not listed.
[[nodiscard]] inline std::vector<std::string> leftover_checks(
    const std::vector<ListingEntry>& listing, std::string_view own) {
  const auto mine = std::find_if(listing.begin(), listing.end(), [&](const ListingEntry& e) {
    return e.name == own && e.kind == ListingKind::file;
  });
  std::vector<std::string> out;
  if (mine == listing.end()) return out;
  for (const auto& e : listing) {
    if (e.kind == ListingKind::file && e.mtime + stale_check_seconds <= mine->mtime) {
      out.push_back(e.name);
    }
  }
  return out;
}

// Returns what a step answered with status means when it is not what mkv needs: the problem and
// the nginx directive that fixes it; nullopt when the step went as needed. listed_json is
// whether the list step's body parsed as an nginx JSON listing that names the moved file.
[[nodiscard]] inline std::optional<std::string> capability_problem(CapabilityStep step,
                                                                   unsigned status,
                                                                   bool listed_json = true) {
  const std::string answered = " answered " + std::to_string(status);
  switch (step) {
    case CapabilityStep::put:
      if (status == 201 || status == 204) return std::nullopt;
      if (status == 405) return "PUT" + answered + ": add `dav_methods PUT DELETE MOVE;`";
      if (status == 409) {
        return "PUT" + answered + " (no directory for the file): add `create_full_put_path on;`";
      }
      if (status == 413) return "PUT" + answered + ": add `client_max_body_size 0;`";
      if (status == 403) {
        return "PUT" + answered +
               ": let mkv's host write (`limit_except`) and nginx write its root";
      }
      return "PUT" + answered;
    case CapabilityStep::move:
      if (status == 201 || status == 204) return std::nullopt;
      if (status == 405) return "MOVE" + answered + ": add `dav_methods PUT DELETE MOVE;`";
      return "MOVE" + answered;
    case CapabilityStep::list:
      if (status == 200 && listed_json) return std::nullopt;
      if (status == 200 || status == 403 || status == 404) {
        return "GET of a directory" + answered + (status == 200 ? " without a JSON listing" : "") +
               ": add `autoindex on; autoindex_format json;`";
      }
      return "GET of a directory" + answered;
    case CapabilityStep::remove:
      if (status == 200 || status == 204) return std::nullopt;
      if (status == 405) return "DELETE" + answered + ": add `dav_methods PUT DELETE MOVE;`";
      return "DELETE" + answered;
  }
  return std::nullopt;  // unreachable: every step is handled above
}

}  // namespace mkv
