// What a rebalance plan amounts to, how --dry-run prints it, and the progress line and closing
// summary of a run.
#include "mkv/rebalance_report.h"

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

TEST_CASE("format_rebalance_progress is one line with the keys/s rate") {
  mkv::RebalanceProgress p;
  p.keys_scanned = 3000;
  p.keys_planned = 1500;
  p.keys_moved = 1400;
  p.copies = 1400;
  p.bytes = 1468006;
  p.deletes = 1400;
  p.seconds = 2.0;
  CHECK(mkv::format_rebalance_progress(p) ==
        "rebalance: 3000 keys scanned, 1400/1500 moved, 0 failed, 1400 copies (1.4 MiB), "
        "1400 deletes, 700 keys/s");
}

TEST_CASE("format_rebalance_summary: every count, and what to do next") {
  struct Case {
    std::uint64_t planned, moved, failed, delete_failures, abandoned;
    std::string_view last_line;
  };
  const Case cases[] = {
      {0, 0, 0, 0, 0, "nothing to do: every key is on its placement\n"},
      {10, 10, 0, 0, 0, "every key is on its placement\n"},
      {10, 9, 1, 0, 0,
       "some keys are not on their placement yet: fix the volumes named above and run "
       "rebalance again\n"},
      {10, 10, 0, 2, 0,
       "some keys are not on their placement yet: fix the volumes named above and run "
       "rebalance again\n"},
      // Copies left on a dead volume that leaves -v do not keep the keys off their placement.
      {10, 10, 0, 0, 4, "every key is on its placement\n"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.last_line);
    mkv::RebalanceProgress p;
    p.keys_scanned = 100;
    p.keys_planned = c.planned;
    p.keys_moved = c.moved;
    p.keys_failed = c.failed;
    p.delete_failures = c.delete_failures;
    p.copies_abandoned = c.abandoned;
    p.copies = c.moved;
    p.bytes = c.moved * 1024;
    p.deletes = c.moved;
    p.seconds = 4.5;
    const std::string text = mkv::format_rebalance_summary(p);
    CHECK(text.starts_with("rebalance: scanned 100 keys in 4.5 s; moved " +
                           std::to_string(c.moved) + " of " + std::to_string(c.planned) + " (" +
                           std::to_string(mkv::per_second(c.moved, 4.5)) + " keys/s)\n"));
    CHECK(text.find("  copies made: " + std::to_string(c.moved) + " (" +
                    mkv::format_bytes(c.moved * 1024) + ")\n") != std::string::npos);
    CHECK(text.find("  keys not moved (no copy could be made): " + std::to_string(c.failed) +
                    '\n') != std::string::npos);
    CHECK(text.find("  failed deletes: " + std::to_string(c.delete_failures) + '\n') !=
          std::string::npos);
    const std::string abandoned = "  copies left on volumes leaving -v that did not answer: " +
                                  std::to_string(c.abandoned) +
                                  " (wipe those volumes before using them again)\n";
    CHECK((text.find(abandoned) != std::string::npos) == (c.abandoned > 0));
    CHECK(text.ends_with(c.last_line));
  }
}
