// Index conformance: schema versions. An index written by an earlier release (real files in
// tests/index/fixtures/: v1.<backend> written by the schema-version-1 code of commit e6cdbc1,
// v2.<backend> by the version-2 code of commit 0925686, v4.<backend> by mkv serve of commit
// 9bb577f (SQLite) and c38e17c (LMDB)) is opened, upgraded in place when this
// build's schema is newer (version 2 added the intents of overwrites, version 3 checksums and
// write times, version 5 Record::meta), and keeps every record and intent.
#include "index_under_test.h"

#include <cstdint>
#include <string>
#include <vector>

namespace {

// The records the fixture was written with (see tests/index/fixtures/README).
// In v2, "a/b" was overwritten to 2048 bytes and the overwrite's intent is still recorded.
void check_fixture_records(IndexUnderTest& index, std::uint64_t a_b_size = 1024) {
  const std::string stem(600, 's');
  CHECK(get_ok(index, "a/b") ==
        record(a_b_size, {"http://127.0.0.1:8081", "http://127.0.0.1:8082"}));
  CHECK(get_ok(index, "empty-value") == record(0, {"http://127.0.0.1:8083"}));
  CHECK(get_ok(index, "utf8/\xC3\xBC" "ber") ==
        record(7, {"http://127.0.0.1:8082", "http://127.0.0.1:8083"}));
  CHECK(get_ok(index, stem + "/one") == record(11, {"http://127.0.0.1:8081"}));
  CHECK(get_ok(index, stem + "/two") == record(22, {"http://127.0.0.1:8082"}));
  CHECK(get_ok(index, "big") ==
        record(1099511627776ull, {"http://127.0.0.1:8081", "http://127.0.0.1:8083"}));
  for (int i = 0; i < 100; ++i) {
    CHECK(get_ok(index, "bulk/" + std::to_string(i)) ==
          record(static_cast<std::uint64_t>(i), {"http://127.0.0.1:8081"}));
  }
  CHECK(scan_all(index).size() == 106);
  CHECK(list_paged(index, "bulk/", 7).size() == 100);
  // Version 4 counts the keys once when it upgrades; writes keep the count from then on.
  CHECK(index.count().value() == 106);
  CHECK(index.repairs("", 10).value().empty());
}

}  // namespace

TEST_CASE("an index written by schema version 1 opens with every record and takes writes") {
  SKIP_UNLESS_FILES();
  ScratchDir dir;
  dir.copy_fixture("v1");
  {
    auto index = open_index(dir.index_path());
    check_fixture_records(index);
    apply_ok(index, {put("after-upgrade", record(5)), erase("a/b")});
  }
  auto index = open_index(dir.index_path());  // and again, now at this build's version
  CHECK(get_ok(index, "after-upgrade") == record(5));
  CHECK_FALSE(get_ok(index, "a/b").has_value());
  CHECK(scan_all(index).size() == 106);
  CHECK(index.count().value() == 106);
}

TEST_CASE("upgraded from schema version 1: checksums unknown, write times 0; new ones kept") {
  SKIP_UNLESS_FILES();
  ScratchDir dir;
  dir.copy_fixture("v1");
  auto index = open_index(dir.index_path());
  for (const auto& e : scan_all(index)) {
    CAPTURE(e.key);
    CHECK_FALSE(e.record.md5.has_value());
    CHECK(e.record.modified == 0);
  }
  mkv::Record with_md5 = record(7, {"http://127.0.0.1:8081"});
  with_md5.md5 = mkv::md5_of("seven b");
  with_md5.modified = 1764500000;
  apply_ok(index, {put("utf8/\xC3\xBC" "ber", with_md5)});
  CHECK(get_ok(index, "utf8/\xC3\xBC" "ber") == with_md5);
  CHECK(get_ok(index, "big")->md5 == std::nullopt);
  CHECK(index.intents().value().empty());
}

TEST_CASE("an index written by schema version 2 keeps its records and its overwrite's intent") {
  SKIP_UNLESS_FILES();
  ScratchDir dir;
  dir.copy_fixture("v2");
  const mkv::Intent intent{"0123456789abcdef0123456789abcdef", "a/b",
                           {"http://127.0.0.1:8081", "http://127.0.0.1:8082"},
                           record(1024, {"http://127.0.0.1:8081", "http://127.0.0.1:8082"})};
  {
    auto index = open_index(dir.index_path());
    check_fixture_records(index, 2048);
    for (const auto& e : scan_all(index)) {
      CAPTURE(e.key);
      CHECK_FALSE(e.record.md5.has_value());
      CHECK(e.record.modified == 0);
    }
    const auto intents = index.intents();
    REQUIRE(intents.has_value());
    REQUIRE(intents->size() == 1);
    CHECK(intents->front() == intent);
    // The intent ends as a recovery would end it: back to the previous record.
    mkv::Write revert = put("a/b", intent.previous);
    revert.end_intent = intent.token;
    apply_ok(index, {revert});
  }
  auto index = open_index(dir.index_path());
  check_fixture_records(index);
  CHECK(index.intents().value().empty());
}

TEST_CASE("an index written by schema version 4 keeps checksums and times; meta arrives empty") {
  SKIP_UNLESS_FILES();
  ScratchDir dir;
  dir.copy_fixture("v4");
  const std::string stem(250, 's');
  const std::string long_stem = stem + "/" + stem + "/" + stem;
  {
    auto index = open_index(dir.index_path());
    const auto entries = scan_all(index);
    CHECK(entries.size() == 14);
    CHECK(index.count().value() == 14);
    for (const auto& e : entries) {
      CAPTURE(e.key);
      CHECK(e.record.volumes.size() == 2);
      CHECK(e.record.md5.has_value());
      CHECK(e.record.modified >= 1796106000);  // 2026-12-01, 06:20 UTC
      CHECK(e.record.modified < 1796106100);
      CHECK(e.record.meta.empty());
    }
    // The bodies the fixture was written with: a/b overwritten by 2048 'A', n 'b' at bulk/n.
    CHECK(get_ok(index, "a/b")->size == 2048);
    CHECK(get_ok(index, "a/b")->md5 == mkv::md5_of(std::string(2048, 'A')));
    CHECK(get_ok(index, "empty-value")->md5 == mkv::md5_of(""));
    CHECK(get_ok(index, "utf8/\xC3\xBC" "ber")->md5 == mkv::md5_of(std::string(7, 'u')));
    CHECK(get_ok(index, long_stem + "/two")->md5 == mkv::md5_of(std::string(22, 't')));
    CHECK(get_ok(index, "bulk/8")->md5 == mkv::md5_of(std::string(8, 'b')));
    CHECK_FALSE(get_ok(index, "bulk/9").has_value());
    mkv::Record with_meta = *get_ok(index, "a/b");
    with_meta.meta = R"({"content-type":"text/plain"})";
    apply_ok(index, {put("a/b", with_meta)});
  }
  auto index = open_index(dir.index_path());  // again, now at this build's version
  CHECK(get_ok(index, "a/b")->meta == R"({"content-type":"text/plain"})");
  CHECK(get_ok(index, "empty-value")->meta.empty());
  CHECK(index.count().value() == 14);
}
