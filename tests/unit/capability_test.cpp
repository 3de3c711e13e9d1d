// The capability check: where its file goes, and what each failed step says about the volume's
// nginx configuration.
#include "mkv/capability.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using mkv::CapabilityStep;

TEST_CASE("the check works under the volume's /.mkv/check/") {
  CHECK(mkv::capability_target("", "0f1e", false) == "/.mkv/check/0f1e");
  CHECK(mkv::capability_target("/blobs", "0f1e", true) == "/blobs/.mkv/check/0f1e.moved");
  CHECK(mkv::capability_directory("/blobs") == "/blobs/.mkv/check/");
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
      {CapabilityStep::remove, 405, true, "DELETE answered 405: add `dav_methods PUT DELETE MOVE;`"},
  };
  for (const auto& c : cases) {
    CAPTURE(static_cast<int>(c.step));
    CAPTURE(c.status);
    CHECK(mkv::capability_problem(c.step, c.status, c.listed_json) == c.problem);
  }
}
