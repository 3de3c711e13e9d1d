// Rebuild's printed text: byte counts, the progress line and the closing summary.
#include "mkv/rebuild.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>

TEST_CASE("format_bytes uses binary units with one decimal") {
  struct Case {
    std::uint64_t bytes;
    std::string_view text;
  };
  const Case cases[] = {
      {0, "0 B"},
      {1, "1 B"},
      {1023, "1023 B"},
      {1024, "1.0 KiB"},
      {1536, "1.5 KiB"},
      {1024 * 1024 - 1, "1024.0 KiB"},
      {1024 * 1024, "1.0 MiB"},
      {5'368'709'120ull, "5.0 GiB"},
      {1'099'511'627'776ull + 109'951'162'778ull, "1.1 TiB"},
      {18446744073709551615ull, "16.0 EiB"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.bytes);
    CHECK(mkv::format_bytes(c.bytes) == c.text);
  }
}

TEST_CASE("format_rebuild_progress is one line") {
  mkv::RebuildProgress p;
  p.volume_number = 2;
  p.volume_count = 3;
  p.volume = "http://vol2:8080";
  p.directories = 12;
  p.files = 3400;
  p.bytes = 1258291;
  CHECK(mkv::format_rebuild_progress(p) ==
        "rebuild: volume 2/3 http://vol2:8080: 12 directories, 3400 files, 1.2 MiB");
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
        "run `rebalance` to bring every key onto its placement\n");

  s.under_replicated = 0;
  CHECK(mkv::format_rebuild_summary(s, 2).find("rebalance") == std::string::npos);
}
