// Topology: the volumes and the replication factor as one value, and the placement it gives.
#include "mkv/topology.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("make_topology keeps the volumes in -v order with their URLs") {
  const auto volumes = mkv::parse_volume_list("http://a:1,http://b:2/x,http://c:3");
  REQUIRE(volumes.has_value());
  const mkv::Topology t = mkv::make_topology(*volumes, 2);
  CHECK(t.urls == std::vector<std::string>{"http://a:1", "http://b:2/x", "http://c:3"});
  CHECK(t.volumes == *volumes);
  CHECK(t.replicas == 2);
}

TEST_CASE("placement_of is the first r volumes of the key's ranking") {
  const auto volumes =
      mkv::parse_volume_list("http://vol1:8080,http://vol2:8080,http://vol3:8080");
  const mkv::Topology t = mkv::make_topology(*volumes, 2);
  const auto placement = mkv::placement_of("path/to/key", t);
  REQUIRE(placement.has_value());
  CHECK(*placement == *mkv::volumes_for_key("path/to/key", t.urls, 2));
  CHECK(placement->size() == 2);
}

TEST_CASE("placement_of needs r volumes") {
  const mkv::Topology t = mkv::make_topology(*mkv::parse_volume_list("http://a:1"), 2);
  const auto placement = mkv::placement_of("k", t);
  REQUIRE_FALSE(placement.has_value());
  CHECK(placement.error() == mkv::Error::not_enough_volumes(2, 1));
}

TEST_CASE("write_targets: the placement, fail fast, or fall back to the next volumes up") {
  using mkv::VolumeState;
  constexpr auto up = VolumeState::up;
  constexpr auto down = VolumeState::down;
  constexpr auto unwritable = VolumeState::unwritable;
  const auto t = mkv::make_topology(
      *mkv::parse_volume_list("http://v1:80,http://v2:80,http://v3:80,http://v4:80"), 2);
  const std::string key = "some/key";
  const auto order = mkv::rank_volumes(key, t.urls);  // indexes of t.urls, best first
  const auto url = [&](std::size_t rank) { return t.urls[order[rank]]; };
  // The states of t's volumes with the volumes at the given ranks set to s.
  const auto states_with = [&](std::vector<std::size_t> ranks, VolumeState s) {
    std::vector<VolumeState> states(4, up);
    for (std::size_t r : ranks) states[order[r]] = s;
    return states;
  };

  SUBCASE("all up: the placement, with or without fallback") {
    for (const bool fallback : {false, true}) {
      const auto targets = mkv::write_targets(key, t, states_with({}, up), fallback);
      REQUIRE(targets.has_value());
      CHECK(*targets == std::vector<std::string>{url(0), url(1)});
      CHECK(*targets == *mkv::placement_of(key, t));
    }
  }
  SUBCASE("a placement volume down or unwritable: 502 at once without fallback") {
    for (const auto s : {down, unwritable}) {
      const auto targets = mkv::write_targets(key, t, states_with({1}, s), false);
      REQUIRE_FALSE(targets.has_value());
      CHECK(targets.error().code == mkv::errc::volume_write_failed);
    }
  }
  SUBCASE("a volume outside the placement down: the placement") {
    const auto targets = mkv::write_targets(key, t, states_with({2, 3}, down), false);
    CHECK(targets.value() == std::vector<std::string>{url(0), url(1)});
  }
  SUBCASE("with fallback: the first r volumes of the ranking that are up") {
    CHECK(mkv::write_targets(key, t, states_with({0}, down), true).value() ==
          std::vector<std::string>{url(1), url(2)});
    CHECK(mkv::write_targets(key, t, states_with({1}, unwritable), true).value() ==
          std::vector<std::string>{url(0), url(2)});
    CHECK(mkv::write_targets(key, t, states_with({0, 2}, down), true).value() ==
          std::vector<std::string>{url(1), url(3)});
  }
  SUBCASE("with fallback, fewer than r up: 503 need r but only m") {
    const auto targets = mkv::write_targets(key, t, states_with({0, 1, 2}, down), true);
    REQUIRE_FALSE(targets.has_value());
    CHECK(targets.error() == mkv::Error::not_enough_volumes(2, 1));
  }
}

TEST_CASE("placement_text names r and the volumes in order, so any change shows") {
  const auto a = mkv::make_topology(mkv::parse_volume_list("http://a:1,http://b:2").value(), 2);
  const auto b = mkv::make_topology(mkv::parse_volume_list("http://b:2,http://a:1").value(), 2);
  const auto c = mkv::make_topology(mkv::parse_volume_list("http://a:1,http://b:2").value(), 1);
  CHECK(mkv::placement_text(a) == "r=2\nhttp://a:1\nhttp://b:2\n");
  CHECK(mkv::placement_text(c) == "r=1\nhttp://a:1\nhttp://b:2\n");
  // The ranking is by URL, not by position: the same set in another order places alike, but
  // the record is exact about what -v said.
  CHECK(mkv::placement_text(a) != mkv::placement_text(b));
}
