// What a rebalance plan amounts to and how --dry-run prints it.
#include "mkv/rebalance.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using mkv::Move;
using mkv::Record;

namespace {

// Returns the Move with these fields; its records before and after both have size bytes.
Move move(std::string key, std::uint64_t size, std::vector<std::string> before,
          std::vector<std::string> after, std::vector<std::string> sources,
          std::vector<std::string> copy_to, std::vector<std::string> remove_from) {
  return Move{std::move(key),         Record{std::move(before), size},
              Record{std::move(after), size}, std::move(sources),
              std::move(copy_to),     std::move(remove_from)};
}

const std::vector<Move> sample = {
    move("a", 1000, {"http://v1", "http://v3"}, {"http://v1", "http://v4"},
         {"http://v1", "http://v3"}, {"http://v4"}, {"http://v3"}),
    move("b c", 3000, {"http://v2", "http://v1"}, {"http://v1", "http://v2"},
         {"http://v1", "http://v2"}, {}, {}),
    move("d/e", 48, {"http://old"}, {"http://v2", "http://v4"}, {"http://old"},
         {"http://v2", "http://v4"}, {"http://old"}),
    move("f", 7, {"http://v1", "http://v2", "http://v3"}, {"http://v1", "http://v2"},
         {"http://v1", "http://v2", "http://v3"}, {}, {"http://v3"}),
};

}  // namespace

TEST_CASE("tally_plan counts moves, copies, bytes and traffic per volume") {
  const auto s = mkv::tally_plan({}, 10, sample);
  CHECK(s.keys_scanned == 10);
  CHECK(s.keys_moving == 3);
  CHECK(s.index_only == 1);
  CHECK(s.copies == 3);
  CHECK(s.bytes == 1000 + 2 * 48);
  CHECK(s.deletes == 3);
  CHECK(s.volumes.size() == 5);
  CHECK(s.volumes.at("http://v1") == mkv::VolumeTraffic{1, 1000, 0, 0, 0});
  CHECK(s.volumes.at("http://v2") == mkv::VolumeTraffic{0, 0, 1, 48, 0});
  CHECK(s.volumes.at("http://v3") == mkv::VolumeTraffic{0, 0, 0, 0, 2});
  CHECK(s.volumes.at("http://v4") == mkv::VolumeTraffic{0, 0, 2, 1048, 0});
  CHECK(s.volumes.at("http://old") == mkv::VolumeTraffic{2, 96, 0, 0, 1});
}

TEST_CASE("tally_plan adds up page by page") {
  const std::span<const Move> all(sample);
  auto paged = mkv::tally_plan({}, 6, all.first(2));
  paged = mkv::tally_plan(paged, 4, all.subspan(2));
  CHECK(paged == mkv::tally_plan({}, 10, sample));
}

TEST_CASE("describe_move says what one move does") {
  const std::string_view lines[] = {
      "a (1000 B): copy http://v1 -> http://v4; delete http://v3",
      "b c (2.9 KiB): reorder index to http://v1, http://v2",
      "d/e (48 B): copy http://old -> http://v2, http://v4; delete http://old",
      "f (7 B): delete http://v3",
  };
  for (std::size_t i = 0; i < sample.size(); ++i) CHECK(mkv::describe_move(sample[i]) == lines[i]);
}

TEST_CASE("format_dry_run prints totals, the per-volume table and the first moves") {
  const auto s = mkv::tally_plan({}, 10, sample);
  const std::span<const Move> first(sample.data(), 2);
  CHECK(mkv::format_dry_run(s, first, 4, 2) ==
        "rebalance dry run: 4 volumes, 2 replicas; nothing was changed\n"
        "keys scanned:                   10\n"
        "keys to move:                    3\n"
        "index-only rewrites:             1\n"
        "copies to make:                  3 (1.1 KiB)\n"
        "copies to delete:                3\n"
        "\n"
        "volume      copies out   copies in    bytes in     deletes\n"
        "http://old           2           0         0 B           1\n"
        "http://v1            1           0         0 B           0\n"
        "http://v2            0           1        48 B           0\n"
        "http://v3            0           0         0 B           2\n"
        "http://v4            0           2     1.0 KiB           0\n"
        "\n"
        "first 2 of 4 planned keys:\n"
        "  a (1000 B): copy http://v1 -> http://v4; delete http://v3\n"
        "  b c (2.9 KiB): reorder index to http://v1, http://v2\n");
}

TEST_CASE("format_dry_run says when there is nothing to do") {
  const auto s = mkv::tally_plan({}, 1234, {});
  CHECK(mkv::format_dry_run(s, {}, 3, 2) ==
        "rebalance dry run: 3 volumes, 2 replicas; nothing was changed\n"
        "keys scanned:                 1234\n"
        "keys to move:                    0\n"
        "index-only rewrites:             0\n"
        "copies to make:                  0 (0 B)\n"
        "copies to delete:                0\n"
        "nothing to do: every key is on its placement\n");
}

TEST_CASE("format_dry_run leaves out the table when only the index changes") {
  const std::span<const Move> reorder(sample.data() + 1, 1);
  const auto s = mkv::tally_plan({}, 1, reorder);
  const auto text = mkv::format_dry_run(s, reorder, 2, 2);
  CHECK(text.find("copies out") == std::string::npos);
  CHECK(text.find("first 1 of 1 planned keys:\n  b c (2.9 KiB): reorder index") !=
        std::string::npos);
}
