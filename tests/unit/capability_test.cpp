// The capability check: where its file goes, and what each failed step says about the volume's
// nginx configuration.
#include "mkv/capability.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using mkv::CapabilityStep;

TEST_CASE("the check works under the volume's /.mkv/check/") {
  CHECK(mkv::capability_target("", "0f1e", false) == "/.mkv/check/0f1e");
  CHECK(mkv::capability_target("/blobs", "0f1e", true) == "/blobs/.mkv/check/0f1e.moved");
  CHECK(mkv::capability_directory("/blobs") == "/blobs/.mkv/check/");
}

TEST_CASE(
    "leftover_checks: files at least ten minutes older than this check's own, by the volume's "
    "clock") {
  using mkv::ListingEntry;
  using mkv::ListingKind;
  const std::int64_t now = 1'800'000'000;
  const auto file = [](std::string name, std::int64_t mtime) {
    return ListingEntry{std::move(name), ListingKind::file, 21, mtime};
  };
  struct Case {
    const char* what;
    std::vector<ListingEntry> listing;
    std::vector<std::string> leftovers;
  };
  const Case cases[] = {
      {"only this check's file", {file("a1.moved", now)}, {}},
      {"another server's check under way", {file("b2", now - 1), file("a1.moved", now)}, {}},
      {"just younger than the limit", {file("b2.moved", now - 599), file("a1.moved", now)}, {}},
      {"exactly the limit", {file("b2.moved", now - 600), file("a1.moved", now)}, {"b2.moved"}},
      {"old leftovers, staged and moved",
       {file("c3", now - 86400), file("a1.moved", now), file("d4.moved", now - 3600)},
       {"c3", "d4.moved"}},
      {"a directory is never one",
       {ListingEntry{"sub", ListingKind::directory, 0, 0}, file("a1.moved", now)},
       {}},
      {"own file not listed: nothing is judged", {file("c3", now - 86400)}, {}},
      {"own name listed as a directory: nothing is judged",
       {ListingEntry{"a1.moved", ListingKind::directory, 0, now}, file("c3", now - 86400)},
       {}},
      {"a future-dated file (clock set back) stays",
       {file("e5", now + 3600), file("a1.moved", now)},
       {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CHECK(mkv::leftover_checks(c.listing, "a1.moved") == c.leftovers);
  }
}

TEST_CASE("capability_problem: what each step's answer says") {
  struct Case {
    CapabilityStep step;
    unsigned status;
    bool listed_json;
    std::optional<std::string> problem;
  };
  const Case cases[] = {
      {CapabilityStep::put, 201, true, std::nullopt},
      {CapabilityStep::put, 204, true, std::nullopt},
      {CapabilityStep::put, 405, true, "PUT answered 405: add `dav_methods PUT DELETE MOVE;`"},
      {CapabilityStep::put, 409, true,
       "PUT answered 409 (no directory for the file): add `create_full_put_path on;`"},
      {CapabilityStep::put, 413, true, "PUT answered 413: add `client_max_body_size 0;`"},
      {CapabilityStep::put, 403, true,
       "PUT answered 403: let mkv's host write (`limit_except`) and nginx write its root"},
      {CapabilityStep::put, 500, true, "PUT answered 500"},
      {CapabilityStep::move, 201, true, std::nullopt},
      {CapabilityStep::move, 204, true, std::nullopt},
      {CapabilityStep::move, 405, true, "MOVE answered 405: add `dav_methods PUT DELETE MOVE;`"},
      {CapabilityStep::move, 502, true, "MOVE answered 502"},
      {CapabilityStep::list, 200, true, std::nullopt},
      {CapabilityStep::list, 200, false,
       "GET of a directory answered 200 without a JSON listing: add `autoindex on; "
       "autoindex_format json;`"},
      {CapabilityStep::list, 403, false,
       "GET of a directory answered 403: add `autoindex on; autoindex_format json;`"},
      {CapabilityStep::list, 404, false,
       "GET of a directory answered 404: add `autoindex on; autoindex_format json;`"},
      {CapabilityStep::remove, 204, true, std::nullopt},
      {CapabilityStep::remove, 200, true, std::nullopt},
      {CapabilityStep::remove, 405, true,
       "DELETE answered 405: add `dav_methods PUT DELETE MOVE;`"},
  };
  for (const auto& c : cases) {
    CAPTURE(static_cast<int>(c.step));
    CAPTURE(c.status);
    CHECK(mkv::capability_problem(c.step, c.status, c.listed_json) == c.problem);
  }
}
