// Rebuild's printed text: the walk's progress line, the report of
// unreadable volumes, and the closing summary.
#include "mkv/rebuild_report.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
        "rebuild: 1/3 volumes walked, 152 directories, 30000 files, 10000 keys indexed, 1.2 MiB, "
        "15000 files/s");
  CHECK(mkv::format_walk_progress(mkv::WalkProgress{}) ==
        "rebuild: 0/0 volumes walked, 0 directories, 0 files, 0 keys indexed, 0 B, 0 files/s");
}

TEST_CASE("format_unreadable names every volume and says the index was left unchanged") {
  const std::vector<mkv::UnreadableVolume> unreadable = {
      {"http://v1:8080", "connect: Connection refused"},
      {"http://v3:8080", "listing /a/ answered 403"},
  };
  const std::string text = mkv::format_unreadable(unreadable, "/data/index.db");
  CHECK(
      text.starts_with("rebuild: cannot read http://v1:8080: connect: Connection refused\n"
                       "rebuild: cannot read http://v3:8080: listing /a/ answered 403\n"
                       "rebuild: 2 of the volumes could not be read; the index "
                       "/data/index.db was left unchanged\n"));
  CHECK(text.ends_with("\n"));
  CHECK(text.find("leave a volume that is gone for good out of -v") != std::string::npos);
}

TEST_CASE("format_rebuild_summary reports every count and suggests a rebalance when needed") {
  mkv::RebuildSummary s;
  s.keys = 10;
  s.copies = 19;
  s.bytes = 2048;
  s.under_replicated = 1;
  s.skipped = 4;
  CHECK(mkv::format_rebuild_summary(s, 2) ==
        "rebuild: indexed 10 keys, 19 copies, 2.0 KiB\n"
        "  under-replicated (fewer than 2 copies): 1\n"
        "  misplaced (a copy outside the placement): 0\n"
        "  size conflicts (copies of different sizes): 0\n"
        "  skipped entries (not keys): 4\n"
        "  checksums unknown: 10 (kept from the old index: 0)\n"
        "run `rebalance` to bring every key onto its placement\n"
        "run `verify` to compute the checksums that are unknown\n");

  s.under_replicated = 0;
  CHECK(mkv::format_rebuild_summary(s, 2).find("rebalance") == std::string::npos);
  s.checksums_kept = 10;
  CHECK(mkv::format_rebuild_summary(s, 2).find("verify") == std::string::npos);
  CHECK(mkv::format_rebuild_summary(s, 2).find(
            "checksums unknown: 0 (kept from the old index: 10)") != std::string::npos);
}
