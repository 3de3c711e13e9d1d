// A program of another Meson project that uses mkv's core as a subproject
// (tests/subproject/check): dependency('mkv') gives it the headers and their dependencies.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <mkv/key.h>
#include <mkv/placement.h>

#include <string>
#include <vector>

TEST_CASE("the core from a subproject places keys") {
  const std::vector<std::string> volumes = {"http://vol1:8080", "http://vol2:8080",
                                            "http://vol3:8080"};
  const auto placement = mkv::volumes_for_key("path/to/key", volumes, 2);
  REQUIRE(placement.has_value());
  CHECK(*placement == std::vector<std::string>{"http://vol3:8080", "http://vol1:8080"});
  CHECK_FALSE(mkv::volumes_for_key("path/to/key", volumes, 4).has_value());
}

TEST_CASE("the core from a subproject validates keys") {
  CHECK(mkv::decode_key("/a%20b").value() == "a b");
  CHECK_FALSE(mkv::decode_key("/../x").has_value());
}
