// Placement: golden vectors pin the on-disk contract; properties check the rendezvous scheme.
#include "mkv/placement.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

std::string hex(const mkv::Score& s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

const std::vector<std::string> three = {"http://vol1:8080", "http://vol2:8080", "http://vol3:8080"};
const std::vector<std::string> five = {"http://10.0.0.1:80", "http://10.0.0.2:80", "http://10.0.0.3:80",
                                       "http://10.0.0.4:80", "http://10.0.0.5:80"};

}  // namespace

TEST_CASE("placement score is SHA-256 of key, NUL, volume") {
  // sha256(b"path/to/key\0http://vol1:8080"), computed with Python's hashlib.
  CHECK(hex(mkv::placement_score("path/to/key", "http://vol1:8080")) ==
        "3d1558b255f28786a928aaf643401d6492175255de83562232d00b2460dc66b1");
}

TEST_CASE("placement golden vectors (computed independently with Python's hashlib)") {
  struct Case {
    std::string key;
    const std::vector<std::string>* volumes;
    std::vector<std::string> ranking;
  };
  const std::vector<Case> cases = {
      {"a", &three, {"http://vol1:8080", "http://vol2:8080", "http://vol3:8080"}},
      {"path/to/key", &three, {"http://vol3:8080", "http://vol1:8080", "http://vol2:8080"}},
      {"hello world", &three, {"http://vol3:8080", "http://vol2:8080", "http://vol1:8080"}},
      {"\xC3\xBCn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9/\xD0\xBA\xD0\xBB\xD1\x8E\xD1\x87", &three,
       {"http://vol2:8080", "http://vol3:8080", "http://vol1:8080"}},
      {"%2F?+", &three, {"http://vol3:8080", "http://vol2:8080", "http://vol1:8080"}},
      {std::string(1024, 'x'), &three, {"http://vol1:8080", "http://vol3:8080", "http://vol2:8080"}},
      {"photos/2024/cat.jpg", &five,
       {"http://10.0.0.4:80", "http://10.0.0.5:80", "http://10.0.0.2:80", "http://10.0.0.3:80",
        "http://10.0.0.1:80"}},
      {"a/b/c", &five,
       {"http://10.0.0.1:80", "http://10.0.0.2:80", "http://10.0.0.3:80", "http://10.0.0.5:80",
        "http://10.0.0.4:80"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    for (std::size_t r = 1; r <= c.volumes->size(); ++r) {
      const auto chosen = mkv::volumes_for_key(c.key, *c.volumes, r);
      REQUIRE(chosen.has_value());
      CHECK(*chosen == std::vector<std::string>(c.ranking.begin(), c.ranking.begin() + r));
    }
  }
}

TEST_CASE("placement refuses more replicas than volumes") {
  const auto chosen = mkv::volumes_for_key("k", three, 4);
  REQUIRE_FALSE(chosen.has_value());
  CHECK(mkv::message(chosen.error()) == "need 4 volumes but only 3 available");
  const std::vector<std::string> none;
  CHECK(mkv::message(mkv::volumes_for_key("k", none, 1).error()) ==
        "need 1 volumes but only 0 available");
}

TEST_CASE("placement does not depend on the order volumes are listed in") {
  std::vector<std::string> reversed(five.rbegin(), five.rend());
  for (int i = 0; i < 200; ++i) {
    const std::string key = "key-" + std::to_string(i);
    CHECK(*mkv::volumes_for_key(key, five, 3) == *mkv::volumes_for_key(key, reversed, 3));
  }
}

TEST_CASE("adding a volume only moves keys onto the new volume") {
  std::vector<std::string> six = five;
  six.push_back("http://10.0.0.6:80");
  int changed = 0;
  const int keys = 20000;
  for (int i = 0; i < keys; ++i) {
    const std::string key = "k/" + std::to_string(i);
    const auto before = *mkv::volumes_for_key(key, five, 2);
    const auto after = *mkv::volumes_for_key(key, six, 2);
    if (before != after) {
      ++changed;
      // The only new member of a changed placement is the new volume.
      CHECK(std::find(after.begin(), after.end(), six.back()) != after.end());
    }
  }
  // P(new volume ranks in the top 2 of 6) = 2/6.
  CHECK(changed == doctest::Approx(keys * 2.0 / 6.0).epsilon(0.05));
}

TEST_CASE("placement spreads keys evenly") {
  std::map<std::string, int> first;
  const int keys = 30000;
  for (int i = 0; i < keys; ++i) first[mkv::volumes_for_key(std::to_string(i), five, 1)->front()]++;
  REQUIRE(first.size() == five.size());
  for (const auto& [volume, count] : first) {
    CAPTURE(volume);
    CHECK(count == doctest::Approx(keys / 5.0).epsilon(0.05));
  }
}

TEST_CASE("order_by_ranking sorts recorded copies by the key's ranking") {
  const std::string key = "path/to/key";  // ranking: vol3, vol1, vol2
  CHECK(mkv::order_by_ranking(key, three, {"http://vol2:8080", "http://vol3:8080"}) ==
        std::vector<std::string>{"http://vol3:8080", "http://vol2:8080"});
  CHECK(mkv::order_by_ranking(key, three, {"http://gone:1", "http://vol1:8080"}) ==
        std::vector<std::string>{"http://vol1:8080", "http://gone:1"});
  CHECK(mkv::order_by_ranking(key, three, {}).empty());
}
