// gc's decisions: what a listed file is to the index, how old it is by the volume's clock,
// whether it is kept, kept for now or deleted; and gc's printed text.
#include "mkv/gc.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

const std::string v1 = "http://v1:8080";
const std::string v2 = "http://v2:8080";
const std::string v3 = "http://v3:8080";

mkv::Record record_on(std::vector<std::string> volumes) {
  mkv::Record r;
  r.volumes = std::move(volumes);
  r.size = 10;
  return r;
}

}  // namespace

TEST_CASE("classify_key_file: a file is a live copy only where its record names its volume") {
  struct Case {
    std::optional<mkv::Record> record;
    std::string volume;
    mkv::GcFile expected;
  };
  const Case cases[] = {
      {std::nullopt, v1, mkv::GcFile::unindexed},
      {record_on({v1, v2}), v1, mkv::GcFile::named},
      {record_on({v1, v2}), v2, mkv::GcFile::named},
      {record_on({v1, v2}), v3, mkv::GcFile::elsewhere},
      {record_on({}), v1, mkv::GcFile::elsewhere},
      // URLs compare whole: a volume whose URL starts like a named one is not named.
      {record_on({"http://v1:80"}), v1, mkv::GcFile::elsewhere},
      {record_on({v1}), "http://v1:80", mkv::GcFile::elsewhere},
  };
  for (const auto& c : cases) {
    CAPTURE(c.volume);
    CHECK(mkv::classify_key_file(c.record, c.volume) == c.expected);
  }
}

TEST_CASE("is_orphan: everything but a live copy and a held staging file") {
  CHECK_FALSE(mkv::is_orphan(mkv::GcFile::named));
  CHECK_FALSE(mkv::is_orphan(mkv::GcFile::staging_held));
  CHECK(mkv::is_orphan(mkv::GcFile::unindexed));
  CHECK(mkv::is_orphan(mkv::GcFile::elsewhere));
  CHECK(mkv::is_orphan(mkv::GcFile::not_a_key));
  CHECK(mkv::is_orphan(mkv::GcFile::staging_stray));
}

TEST_CASE("volume_now: the volume's Date when it parses, local time otherwise") {
  struct Case {
    std::string date;
    std::int64_t local;
    std::int64_t expected;
  };
  const Case cases[] = {
      {"Sun, 06 Nov 1994 08:49:37 GMT", 5, 784111777},
      {"Sunday, 06-Nov-94 08:49:37 GMT", 5, 784111777},
      {"Sun Nov  6 08:49:37 1994", 5, 784111777},
      {"", 1700000000, 1700000000},
      {"yesterday", 1700000000, 1700000000},
  };
  for (const auto& c : cases) {
    CAPTURE(c.date);
    CHECK(mkv::volume_now(c.date, c.local) == c.expected);
  }
}

TEST_CASE("file_age: seconds since mtime, unknown when mtime is unknown or in the future") {
  struct Case {
    std::int64_t mtime;
    std::int64_t now;
    std::optional<std::int64_t> expected;
  };
  const Case cases[] = {
      {1000, 4600, 3600},
      {1000, 1000, 0},
      {1000, 1001, 1},
      {1001, 1000, std::nullopt},  // the file is newer than the volume's now
      {0, 1000, std::nullopt},     // nginx gave no time
      {-5, 1000, std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.mtime);
    CAPTURE(c.now);
    CHECK(mkv::file_age(c.mtime, c.now) == c.expected);
  }
}

TEST_CASE("decide_gc: orphans go once as old as the grace period; nothing needed ever goes") {
  using mkv::GcAction;
  using mkv::GcFile;
  struct Case {
    GcFile file;
    std::optional<std::int64_t> age;
    std::int64_t grace;
    GcAction expected;
  };
  const Case cases[] = {
      {GcFile::named, 1'000'000, 3600, GcAction::keep},
      {GcFile::named, 0, 0, GcAction::keep},
      {GcFile::staging_held, 1'000'000, 0, GcAction::keep},
      {GcFile::unindexed, 3599, 3600, GcAction::too_young},
      {GcFile::unindexed, 3600, 3600, GcAction::remove},
      {GcFile::unindexed, 3601, 3600, GcAction::remove},
      {GcFile::elsewhere, 10, 3600, GcAction::too_young},
      {GcFile::elsewhere, 7200, 3600, GcAction::remove},
      {GcFile::not_a_key, 7200, 3600, GcAction::remove},
      {GcFile::staging_stray, 7200, 3600, GcAction::remove},
      {GcFile::staging_stray, 60, 3600, GcAction::too_young},
      {GcFile::unindexed, 0, 0, GcAction::remove},  // --grace 0: every orphan goes
      {GcFile::unindexed, std::nullopt, 0, GcAction::too_young},  // unknown age: never
      {GcFile::not_a_key, std::nullopt, 3600, GcAction::too_young},
  };
  for (const auto& c : cases) {
    CAPTURE(mkv::gc_file_name(c.file));
    CAPTURE(c.grace);
    CHECK(mkv::decide_gc(c.file, c.age, c.grace) == c.expected);
  }
}

TEST_CASE("gc_complete: every volume read and every orphan deleted or found needed") {
  mkv::GcSummary s;
  CHECK(mkv::gc_complete(s));
  s.orphans = 5;
  s.deleted = 4;
  CHECK_FALSE(mkv::gc_complete(s));
  s.reclaimed = 1;
  CHECK(mkv::gc_complete(s));
  s.failures = 1;
  CHECK_FALSE(mkv::gc_complete(s));
  s.failures = 0;
  s.unreadable = 1;
  CHECK_FALSE(mkv::gc_complete(s));
}

TEST_CASE("format_gc_would_delete names the URL, size, age and why") {
  CHECK(mkv::format_gc_would_delete("http://v1:8080/a/b", 1234, 7200, mkv::GcFile::unindexed) ==
        "would delete http://v1:8080/a/b (1234 bytes, age 7200 s): no record");
  CHECK(mkv::format_gc_would_delete("http://v1:8080/.mkv/staging/ab", 0, 3600,
                                    mkv::GcFile::staging_stray) ==
        "would delete http://v1:8080/.mkv/staging/ab (0 bytes, age 3600 s): stale staging file");
}

TEST_CASE("format_gc_progress is one line") {
  mkv::GcSummary s;
  s.volumes = 3;
  s.volumes_done = 1;
  s.directories = 152;
  s.files = 30000;
  s.orphans = 12;
  s.deleted = 10;
  s.bytes_freed = 1258291;
  CHECK(mkv::format_gc_progress(s, false) ==
        "gc: 1/3 volumes walked, 152 directories, 30000 files, 12 orphans, 10 deleted "
        "(1.2 MiB), 0 failed");
  CHECK(mkv::format_gc_progress(s, true) ==
        "gc: 1/3 volumes walked, 152 directories, 30000 files, 12 orphans, 10 to delete "
        "(1.2 MiB), 0 failed");
}

TEST_CASE("format_gc_summary says what was found, deleted and kept") {
  mkv::GcSummary s;
  s.volumes = 3;
  s.volumes_done = 3;
  s.directories = 30;
  s.files = 2000;
  s.orphans = 4;
  s.orphan_bytes = 2048;
  s.staging = 1;
  s.too_young = 2;
  s.deleted = 4;
  s.bytes_freed = 2048;
  s.seconds = 2.0;
  CHECK(mkv::format_gc_summary(s, 3600, false) ==
        "gc: walked 3/3 volumes, 30 directories, 2000 files in 2.0 s (1000 files/s)\n"
        "  orphans older than 3600 s: 4 (2.0 KiB), of which stale staging files: 1\n"
        "  orphans younger than 3600 s (kept): 2\n"
        "  deleted: 4 (2.0 KiB freed)\n"
        "  failed: 0\n"
        "every orphan older than the grace period is gone\n");

  const std::string dry = mkv::format_gc_summary(s, 0, true);
  CHECK(dry.starts_with("gc dry run: walked 3/3 volumes"));
  CHECK(dry.find("  would delete: 4 (2.0 KiB would be freed)\n") != std::string::npos);
  CHECK(dry.ends_with("nothing was deleted\n"));

  s.volumes_done = 3;
  s.unreadable = 1;
  s.failures = 1;
  s.deleted = 2;
  s.reclaimed = 1;
  const std::string failed = mkv::format_gc_summary(s, 3600, false);
  CHECK(failed.starts_with("gc: walked 2/3 volumes"));
  CHECK(failed.find("  written again while collected (kept): 1\n") != std::string::npos);
  CHECK(failed.find("  failed: 1\n") != std::string::npos);
  CHECK(failed.find("  volumes not read to the end: 1\n") != std::string::npos);
  CHECK(failed.ends_with("some orphans are left; run gc again once the volumes answer\n"));
}

TEST_CASE("in_record_area and absent_listing_is_empty: only .mkv/uploads/ and .mkv/parts/") {
  struct Case {
    std::string path;
    bool expected;
  };
  const Case cases[] = {
      {".mkv/uploads/", true},
      {".mkv/uploads/b/", true},
      {".mkv/uploads/b/0123abcd", true},
      {".mkv/parts/", true},
      {".mkv/parts/b/0123abcd/00001", true},
      {"", false},
      {".mkv/", false},
      {".mkv/staging/", false},
      {".mkv/other/x", false},
      {".mkv/uploads", false},  // the area's own name, not a path below it
      {".mkv/partsx/", false},
      {"b/.mkv/parts/", false},
      {"mkv/parts/", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    CHECK(mkv::in_record_area(c.path) == c.expected);
    CHECK(mkv::absent_listing_is_empty(c.path) == c.expected);
  }
}

TEST_CASE(
    "gc_visit_entry: a record area's files are judged by their records, the rest as the "
    "walk decides") {
  using mkv::ListingKind;
  using mkv::Visit;
  struct Case {
    std::string dir_prefix;
    std::string name;
    ListingKind kind;
    Visit visit;
    std::string path;
  };
  const Case cases[] = {
      // In the areas: every file is a record's blob, every directory is walked.
      {".mkv/uploads/", "b", ListingKind::directory, Visit::descend, ".mkv/uploads/b/"},
      {".mkv/uploads/b/", "0123abcd", ListingKind::file, Visit::record, ".mkv/uploads/b/0123abcd"},
      {".mkv/parts/", "b", ListingKind::directory, Visit::descend, ".mkv/parts/b/"},
      {".mkv/parts/b/", "0123abcd", ListingKind::directory, Visit::descend,
       ".mkv/parts/b/0123abcd/"},
      {".mkv/parts/b/0123abcd/", "00001", ListingKind::file, Visit::record,
       ".mkv/parts/b/0123abcd/00001"},
      {".mkv/parts/", "stray", ListingKind::file, Visit::record, ".mkv/parts/stray"},
      {".mkv/parts/b/", "sock", ListingKind::other, Visit::skip_other, ".mkv/parts/b/sock"},
      // A bucket marker, should a volume server list it, is a record's blob too.
      {"b/", ".mkv-bucket", ListingKind::file, Visit::record, "b/.mkv-bucket"},
      {"b/", ".mkv-bucket", ListingKind::directory, Visit::skip_invalid, "b/.mkv-bucket/"},
      {"b/c/", ".mkv-bucket", ListingKind::file, Visit::skip_invalid, "b/c/.mkv-bucket"},
      {"", ".mkv-bucket", ListingKind::file, Visit::skip_invalid, ".mkv-bucket"},
      // Everything else as visit_entry decides it.
      {"", "a", ListingKind::file, Visit::record, "a"},
      {"", "a", ListingKind::directory, Visit::descend, "a/"},
      {"", ".mkv", ListingKind::directory, Visit::skip_reserved, ".mkv/"},
      {"a/", ".hidden", ListingKind::file, Visit::skip_invalid, "a/.hidden"},
      {"", "latin1 \xE9", ListingKind::file, Visit::skip_invalid, "latin1 \xE9"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.dir_prefix);
    CAPTURE(c.name);
    const auto d = mkv::gc_visit_entry(c.dir_prefix, {c.name, c.kind, 1});
    CHECK(d.visit == c.visit);
    CHECK(d.path == c.path);
  }
}
