// Bucket markers, which no listing shows: which names rebuild asks each volume for, and how the
// answer becomes a copy found.
#include "mkv/autoindex.h"
#include "mkv/rebuild.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using mkv::Visit;

TEST_CASE("marker_probe names the marker of each top-level directory the walk descends into") {
  struct Case {
    std::string dir_prefix;
    mkv::VisitDecision decision;
    std::optional<std::string> expected;
  };
  const Case cases[] = {
      {"", {Visit::descend, "b/", ""}, "b/.mkv-bucket"},
      {"", {Visit::descend, "Photos/", ""}, "Photos/.mkv-bucket"},  // any first segment
      {"", {Visit::descend, "caf\xC3\xA9/", ""}, "caf\xC3\xA9/.mkv-bucket"},
      {"a/", {Visit::descend, "a/b/", ""}, std::nullopt},  // not top-level
      {"", {Visit::record, "b", ""}, std::nullopt},        // a file
      {"", {Visit::skip_reserved, ".mkv/", ""}, std::nullopt},
      {"", {Visit::skip_invalid, "tab\there/", "control character in key"}, std::nullopt},
      {"", {Visit::skip_other, "sock", ""}, std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.dir_prefix);
    CAPTURE(c.decision.path);
    CHECK(mkv::marker_probe(c.dir_prefix, c.decision) == c.expected);
  }
}

TEST_CASE("marker_probe follows the walk: one probe per top-level directory, none below") {
  const auto top = mkv::visit_entry("", {"b", mkv::ListingKind::directory, 0});
  CHECK(mkv::marker_probe("", top) == "b/.mkv-bucket");
  const auto below = mkv::visit_entry("b/", {"c", mkv::ListingKind::directory, 0});
  CHECK(mkv::marker_probe("b/", below) == std::nullopt);
  const auto reserved = mkv::visit_entry("", {".mkv", mkv::ListingKind::directory, 0});
  CHECK(mkv::marker_probe("", reserved) == std::nullopt);
}

TEST_CASE("probed_copy: 200 is a copy with the answer's size and Last-Modified, 404 none") {
  const std::string v1 = "http://v1:8080";
  struct Case {
    unsigned status;
    std::uint64_t size;
    std::string last_modified;
    std::optional<mkv::Sighting> expected;
  };
  const Case cases[] = {
      {200, 0, "Sun, 06 Nov 1994 08:49:37 GMT", mkv::Sighting{v1, 0, 784111777}},
      {200, 5, "Sun, 06 Nov 1994 08:49:37 GMT", mkv::Sighting{v1, 5, 784111777}},
      {200, 0, "", mkv::Sighting{v1, 0, 0}},  // time unknown
      {200, 0, "yesterday", mkv::Sighting{v1, 0, 0}},
      {404, 0, "", std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.status);
    CAPTURE(c.last_modified);
    const auto copy = mkv::probed_copy(v1, c.status, c.size, c.last_modified);
    REQUIRE(copy.has_value());
    CHECK(*copy == c.expected);
  }
  for (const unsigned status : {301u, 403u, 500u, 502u, 0u}) {
    CAPTURE(status);
    const auto copy = mkv::probed_copy(v1, status, 0, "");
    REQUIRE_FALSE(copy.has_value());
    CHECK(copy.error().code == mkv::errc::volume_request_failed);
    CHECK(copy.error().detail == "answered " + std::to_string(status));
  }
}
