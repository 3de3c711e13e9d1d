// The text rebuild and rebalance print while they execute: rates, progress lines, the report of
// unreadable volumes and the rebalance summary.
#include "mkv/ops_progress.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

TEST_CASE("per_second divides and rounds down, and is 0 before any time has passed") {
  struct Case {
    std::uint64_t count;
    double seconds;
    std::uint64_t rate;
  };
  const Case cases[] = {
      {0, 0.0, 0},     {100, 0.0, 0},   {100, -1.0, 0}, {100, 1.0, 100},
      {100, 3.0, 33},  {1, 0.5, 2},     {0, 2.0, 0},    {20000, 0.8, 25000},
  };
  for (const auto& c : cases) {
    CAPTURE(c.count);
    CAPTURE(c.seconds);
    CHECK(mkv::per_second(c.count, c.seconds) == c.rate);
  }
}

TEST_CASE("format_duration: tenths below a minute, then minutes, then hours") {
  struct Case {
    double seconds;
    std::string_view text;
  };
  const Case cases[] = {
      {-1.0, "0.0 s"},       {0.0, "0.0 s"},         {0.25, "0.2 s"},
      {1.94, "1.9 s"},       {59.99, "59.9 s"},      {60.0, "1 min 0 s"},
      {245.7, "4 min 5 s"},  {3599.9, "59 min 59 s"}, {3600.0, "1 h 0 min"},
      {7380.0, "2 h 3 min"}, {90061.0, "25 h 1 min"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.seconds);
    CHECK(mkv::format_duration(c.seconds) == c.text);
  }
}

TEST_CASE("format_walk_progress is one line with the files/s rate") {
  mkv::WalkProgress p;
  p.volumes = 3;
  p.volumes_done = 1;
  p.directories = 152;
  p.files = 30000;
  p.keys = 10000;
  p.bytes = 1258291;
  p.seconds = 2.0;
  CHECK(mkv::format_walk_progress(p) ==
        "rebuild: 1/3 volumes walked, 152 directories, 30000 files, 10000 keys, 1.2 MiB, "
        "15000 files/s");
  CHECK(mkv::format_walk_progress(mkv::WalkProgress{}) ==
        "rebuild: 0/0 volumes walked, 0 directories, 0 files, 0 keys, 0 B, 0 files/s");
}

TEST_CASE("format_index_write_progress counts keys written") {
  CHECK(mkv::format_index_write_progress(20000, 50000) ==
        "rebuild: writing index: 20000/50000 keys");
}

TEST_CASE("format_unreadable names every volume and says the index was left unchanged") {
  const std::vector<mkv::UnreadableVolume> unreadable = {
      {"http://v1:8080", "connect: Connection refused"},
      {"http://v3:8080", "listing /a/ answered 403"},
  };
  const std::string text = mkv::format_unreadable(unreadable, "/data/index.db");
  CHECK(text.starts_with("rebuild: cannot read http://v1:8080: connect: Connection refused\n"
                         "rebuild: cannot read http://v3:8080: listing /a/ answered 403\n"
                         "rebuild: 2 of the volumes could not be read; the index "
                         "/data/index.db was left unchanged\n"));
  CHECK(text.ends_with("\n"));
  CHECK(text.find("leave a volume that is gone for good out of -v") != std::string::npos);
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
    std::uint64_t planned, moved, failed, delete_failures;
    std::string_view last_line;
  };
  const Case cases[] = {
      {0, 0, 0, 0, "nothing to do: every key is on its placement\n"},
      {10, 10, 0, 0, "every key is on its placement\n"},
      {10, 9, 1, 0,
       "some keys are not on their placement yet: fix the volumes named above and run "
       "rebalance again\n"},
      {10, 10, 0, 2,
       "some keys are not on their placement yet: fix the volumes named above and run "
       "rebalance again\n"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.last_line);
    mkv::RebalanceProgress p;
    p.keys_scanned = 100;
    p.keys_planned = c.planned;
    p.keys_moved = c.moved;
    p.keys_failed = c.failed;
    p.delete_failures = c.delete_failures;
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
    CHECK(text.ends_with(c.last_line));
  }
}
