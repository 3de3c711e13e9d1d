// Rebuild: gathering the copies found on volumes into records, ordered by ranking, with size
// conflicts, under-replication and misplacement reported.
#include "mkv/rebuild.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using mkv::Record;
using mkv::RecordHealth;
using mkv::Sighting;

namespace {

const std::vector<std::string> three = {"http://v1:8080", "http://v2:8080", "http://v3:8080"};

// Returns the volumes of `three` in key's ranking order.
std::vector<std::string> ranked(const std::string& key) {
  std::vector<std::string> out;
  for (std::size_t i : mkv::rank_volumes(key, three)) out.push_back(three[i]);
  return out;
}

std::vector<Sighting> sorted(std::vector<Sighting> s) {
  std::sort(s.begin(), s.end(), [](const Sighting& a, const Sighting& b) {
    return a.volume < b.volume;
  });
  return s;
}

}  // namespace

TEST_CASE("rebuild_key orders copies by the key's ranking whatever order they arrive in") {
  const std::string key = "photos/cat.jpg";
  const auto r = ranked(key);
  std::vector<Sighting> copies = {{three[0], 7}, {three[1], 7}, {three[2], 7}};
  std::sort(copies.begin(), copies.end(), [](auto& a, auto& b) { return a.volume < b.volume; });
  do {
    const auto k = mkv::rebuild_key(key, copies, three, 3);
    CHECK(k.key == key);
    CHECK(k.record == Record{r, 7});
    CHECK(k.discarded.empty());
    CHECK(k.health == RecordHealth{false, false});
  } while (std::next_permutation(copies.begin(), copies.end(),
                                 [](auto& a, auto& b) { return a.volume < b.volume; }));
}

TEST_CASE("rebuild_key keeps the size of the highest-ranked copy when sizes disagree") {
  struct Case {
    std::string_view what;
    std::vector<std::pair<std::size_t, std::uint64_t>> copies;  // (ranking position, size)
    std::vector<std::size_t> recorded;                           // ranking positions
    std::uint64_t size;
    std::vector<std::size_t> discarded;
  };
  const Case cases[] = {
      {"top copy is alone", {{0, 20}, {1, 10}, {2, 10}}, {0}, 20, {1, 2}},
      {"top copy has company", {{0, 20}, {1, 10}, {2, 20}}, {0, 2}, 20, {1}},
      {"no copy on the top volume", {{1, 5}, {2, 6}}, {1}, 5, {2}},
      {"empty blob wins on top", {{0, 0}, {1, 9}}, {0}, 0, {1}},
  };
  const std::string key = "k";
  const auto r = ranked(key);
  for (const auto& c : cases) {
    CAPTURE(c.what);
    std::vector<Sighting> copies;
    for (const auto& [pos, size] : c.copies) copies.push_back({r[pos], size});
    Record want{{}, c.size};
    for (std::size_t pos : c.recorded) want.volumes.push_back(r[pos]);
    std::vector<Sighting> want_discarded;
    for (std::size_t pos : c.discarded) {
      const auto it = std::find_if(copies.begin(), copies.end(),
                                   [&](const Sighting& s) { return s.volume == r[pos]; });
      want_discarded.push_back(*it);
    }
    std::sort(copies.begin(), copies.end(), [](auto& a, auto& b) { return a.volume < b.volume; });
    do {  // every arrival order gives the same outcome
      const auto k = mkv::rebuild_key(key, copies, three, 2);
      CHECK(k.record == want);
      CHECK(sorted(k.discarded) == sorted(want_discarded));
      CHECK(mkv::inconsistent(k));
    } while (std::next_permutation(copies.begin(), copies.end(),
                                   [](auto& a, auto& b) { return a.volume < b.volume; }));
  }
}

TEST_CASE("rebuild_key's outcome depends only on the copies, never on their order") {
  // Every assignment of two sizes to copies on 1..3 volumes, in every arrival order: the record
  // is the copies sharing the size of the highest-ranked copy.
  for (const std::string key : {"x", "y/z", "w"}) {
    const auto r = ranked(key);
    for (int present = 1; present < 8; ++present) {
      for (int sizes = 0; sizes < 8; ++sizes) {
        std::vector<Sighting> copies;
        for (std::size_t i = 0; i < 3; ++i) {
          if (present & (1 << i)) copies.push_back({r[i], (sizes & (1 << i)) ? 2u : 1u});
        }
        Record want{{}, copies.front().size};  // copies are in ranking order here
        std::vector<Sighting> want_discarded;
        for (const auto& c : copies) {
          if (c.size == want.size) {
            want.volumes.push_back(c.volume);
          } else {
            want_discarded.push_back(c);
          }
        }
        std::sort(copies.begin(), copies.end(),
                  [](auto& a, auto& b) { return a.volume < b.volume; });
        do {
          const auto k = mkv::rebuild_key(key, copies, three, 2);
          CHECK(k.record == want);
          CHECK(sorted(k.discarded) == sorted(want_discarded));
        } while (std::next_permutation(copies.begin(), copies.end(),
                                       [](auto& a, auto& b) { return a.volume < b.volume; }));
      }
    }
  }
}

TEST_CASE("merge_sighting ignores a second sighting on the same volume") {
  const std::string key = "dup";
  mkv::KeyCopies k;
  k = mkv::merge_sighting(std::move(k), key, {three[0], 4}, three);
  k = mkv::merge_sighting(std::move(k), key, {three[0], 4}, three);
  k = mkv::merge_sighting(std::move(k), key, {three[0], 99}, three);
  CHECK(k.record == Record{{three[0]}, 4});
  CHECK(k.discarded.empty());
}

TEST_CASE("merge_sighting puts copies on unconfigured volumes last") {
  const std::string key = "k";
  const auto r = ranked(key);
  mkv::KeyCopies k;
  k = mkv::merge_sighting(std::move(k), key, {"http://gone:1", 3}, three);
  k = mkv::merge_sighting(std::move(k), key, {r[1], 3}, three);
  k = mkv::merge_sighting(std::move(k), key, {r[0], 3}, three);
  CHECK(k.record == Record{{r[0], r[1], "http://gone:1"}, 3});

  mkv::KeyCopies conflict;
  conflict = mkv::merge_sighting(std::move(conflict), key, {"http://gone:1", 3}, three);
  conflict = mkv::merge_sighting(std::move(conflict), key, {r[2], 8}, three);
  CHECK(conflict.record == Record{{r[2]}, 8});
  CHECK(conflict.discarded == std::vector<Sighting>{{"http://gone:1", 3}});
}

TEST_CASE("assess_record compares a record with the key's placement") {
  const std::string key = "health";
  const auto r = ranked(key);
  struct Case {
    std::string_view what;
    std::vector<std::string> volumes;
    std::size_t replicas;
    RecordHealth health;
  };
  const Case cases[] = {
      {"on its placement", {r[0], r[1]}, 2, {false, false}},
      {"placement in other order", {r[1], r[0]}, 2, {false, false}},
      {"one copy of two", {r[0]}, 2, {true, false}},
      {"one copy, off placement", {r[2]}, 2, {true, true}},
      {"an extra copy", {r[0], r[1], r[2]}, 2, {false, true}},
      {"a copy moved away", {r[0], r[2]}, 2, {false, true}},
      {"a copy on an unconfigured volume", {r[0], "http://gone:1"}, 2, {false, true}},
      {"r=3 on all three", {r[0], r[1], r[2]}, 3, {false, false}},
      {"more replicas than volumes", {r[0], r[1], r[2]}, 4, {true, false}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CHECK(mkv::assess_record(key, Record{c.volumes, 1}, three, c.replicas) == c.health);
  }
}

TEST_CASE("rebuild_index turns per-volume findings into sorted entries and a summary") {
  const auto ra = ranked("a");
  const auto rb = ranked("b/c");
  const auto rc = ranked("d e");
  std::vector<mkv::VolumeFindings> findings;
  for (const auto& v : three) findings.push_back({v, {}});
  const auto put = [&](const std::string& volume, std::string key, std::uint64_t size) {
    for (auto& f : findings) {
      if (f.volume == volume) f.files.emplace_back(std::move(key), size);
    }
  };
  put(ra[1], "a", 10);  // healthy: on its placement, found out of order
  put(ra[0], "a", 10);
  put(rb[2], "b/c", 5);  // one copy, on the wrong volume
  put(rc[0], "d e", 1);  // copies disagree on size
  put(rc[1], "d e", 2);

  const auto rebuilt = mkv::rebuild_index(findings, three, 2);
  REQUIRE(rebuilt.entries.size() == 3);
  CHECK(rebuilt.entries[0] == mkv::Entry{"a", {{ra[0], ra[1]}, 10}});
  CHECK(rebuilt.entries[1] == mkv::Entry{"b/c", {{rb[2]}, 5}});
  CHECK(rebuilt.entries[2] == mkv::Entry{"d e", {{rc[0]}, 1}});

  REQUIRE(rebuilt.inconsistent.size() == 2);
  CHECK(rebuilt.inconsistent[0].key == "b/c");
  CHECK(rebuilt.inconsistent[0].health == RecordHealth{true, true});
  CHECK(rebuilt.inconsistent[1].key == "d e");
  CHECK(rebuilt.inconsistent[1].health == RecordHealth{true, false});
  CHECK(rebuilt.inconsistent[1].discarded == std::vector<Sighting>{{rc[1], 2}});

  mkv::RebuildSummary want;
  want.keys = 3;
  want.copies = 4;
  want.bytes = 16;
  want.under_replicated = 2;
  want.misplaced = 1;
  want.size_conflicts = 1;
  CHECK(rebuilt.summary == want);
}

TEST_CASE("rebuilding a healthy store gives back the records PUT wrote") {
  std::vector<mkv::VolumeFindings> findings;
  for (const auto& v : three) findings.push_back({v, {}});
  std::vector<mkv::Entry> written;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "dir" + std::to_string(i % 7) + "/key-" + std::to_string(i);
    const auto placement = mkv::volumes_for_key(key, three, 2);
    REQUIRE(placement.has_value());
    written.push_back({key, {*placement, static_cast<std::uint64_t>(i)}});
    for (auto& f : findings) {
      if (std::find(placement->begin(), placement->end(), f.volume) != placement->end()) {
        f.files.emplace_back(key, i);
      }
    }
  }
  std::sort(written.begin(), written.end(),
            [](const mkv::Entry& a, const mkv::Entry& b) { return a.key < b.key; });
  const auto rebuilt = mkv::rebuild_index(findings, three, 2);
  CHECK(rebuilt.entries == written);
  CHECK(rebuilt.inconsistent.empty());
  CHECK(rebuilt.summary.keys == 1000);
  CHECK(rebuilt.summary.copies == 2000);
  CHECK(rebuilt.summary.bytes == 999 * 1000 / 2);
}
