// Index conformance: schema versions. An index written by an earlier release (a real file,
// tests/index/fixtures/v1.<backend>, written by the schema-version-1 code of commit e6cdbc1) is
// opened, upgraded in place when this build's schema is newer, and keeps every record.
#include "index_under_test.h"

#include <string>
#include <vector>

namespace {

// The records the fixture was written with (see tests/index/fixtures/README).
void check_fixture_records(IndexUnderTest& index) {
  const std::string stem(600, 's');
  CHECK(get_ok(index, "a/b") ==
        record(1024, {"http://127.0.0.1:8081", "http://127.0.0.1:8082"}));
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
}

}  // namespace

TEST_CASE("an index written by schema version 1 opens with every record and takes writes") {
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
}
