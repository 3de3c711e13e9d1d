// A project that uses the installed mkv core: built against the installed headers and mkv.pc
// only (tests/install/check), never the source tree.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <mkv/key.h>
#include <mkv/placement.h>
#include <mkv/rebalance_plan.h>

#include <string>
#include <vector>

TEST_CASE("the installed core places and validates keys") {
  const std::vector<std::string> volumes = {"http://vol1:8080", "http://vol2:8080",
                                            "http://vol3:8080"};
  const auto placement = mkv::volumes_for_key("path/to/key", volumes, 2);
  REQUIRE(placement.has_value());
  CHECK(*placement == std::vector<std::string>{"http://vol3:8080", "http://vol1:8080"});
  CHECK(mkv::decode_key("/a%20b").value() == "a b");
  CHECK_FALSE(mkv::decode_key("/../x").has_value());
}
