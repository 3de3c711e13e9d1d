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
