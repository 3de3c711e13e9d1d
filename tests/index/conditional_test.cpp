// Index conformance: compare-and-set. A write applies only when its condition holds for the
// key's record at that point of the batch; a failed condition is an outcome, not an error, and
// the rest of the batch still applies.
#include "index_under_test.h"

#include <string>
#include <vector>

using mkv::Applied;
using mkv::Expected;
using mkv::Record;
using mkv::Write;

namespace {

// Applies batch and returns what became of each write, failing the test on an error.
std::vector<Applied> apply_outcomes(IndexUnderTest& index, const std::vector<Write>& batch) {
  auto applied = index.apply(batch);
  REQUIRE_MESSAGE(applied.has_value(), applied.error().detail);
  REQUIRE(applied->size() == batch.size());
  return std::move(*applied);
}

Write put_if(std::string key, Record r, Expected expected) {
  return {std::move(key), std::move(r), std::move(expected)};
}

Write erase_if(std::string key, Expected expected) {
  return {std::move(key), std::nullopt, std::move(expected)};
}

}  // namespace

TEST_CASE("a conditional write applies when the key holds what it expects, and only then") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  const Record a = record(1, {"http://v1:80"});
  const Record b = record(2, {"http://v2:80"});
  const Record c = record(3, {"http://v3:80"});
  struct Case {
    const char* what;
    std::optional<Record> before;  // the key's record before the write
    Write write;
    Applied outcome;
    std::optional<Record> after;
  };
  const Case cases[] = {
      {"create when absent", std::nullopt, put_if("k", a, Expected::absent()), Applied::written, a},
      {"create refused when present", b, put_if("k", a, Expected::absent()),
       Applied::condition_failed, b},
      {"replace the record read", a, put_if("k", b, Expected::record(a)), Applied::written, b},
      {"replace refused after a change", c, put_if("k", b, Expected::record(a)),
       Applied::condition_failed, c},
      {"replace refused once deleted", std::nullopt, put_if("k", b, Expected::record(a)),
       Applied::condition_failed, std::nullopt},
      {"same volumes, other size", record(9, {"http://v1:80"}),
       put_if("k", b, Expected::record(a)), Applied::condition_failed,
       record(9, {"http://v1:80"})},
      {"delete the record read", a, erase_if("k", Expected::record(a)), Applied::written,
       std::nullopt},
      {"delete refused after a change", b, erase_if("k", Expected::record(a)),
       Applied::condition_failed, b},
      {"delete of an absent key expected absent", std::nullopt, erase_if("k", Expected::absent()),
       Applied::written, std::nullopt},
      {"unconditional", c, Write{"k", a}, Applied::written, a},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    apply_ok(index, {c.before ? put("k", *c.before) : erase("k")});
    CHECK(apply_outcomes(index, {c.write}) == std::vector<Applied>{c.outcome});
    CHECK(get_ok(index, "k") == c.after);
  }
}

TEST_CASE("a failed condition does not fail the batch") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  apply_ok(index, {put("held", record(1)), put("changed", record(5))});
  const auto outcomes = apply_outcomes(index, {
      put("plain", record(10)),
      put_if("held", record(2), Expected::record(record(1))),
      put_if("changed", record(6), Expected::record(record(4))),  // someone else wrote 5
      put_if("new", record(7), Expected::absent()),
      put_if("held", record(3), Expected::absent()),
  });
  CHECK(outcomes == std::vector<Applied>{Applied::written, Applied::written,
                                         Applied::condition_failed, Applied::written,
                                         Applied::condition_failed});
  CHECK(get_ok(index, "plain") == record(10));
  CHECK(get_ok(index, "held") == record(2));
  CHECK(get_ok(index, "changed") == record(5));
  CHECK(get_ok(index, "new") == record(7));
}

TEST_CASE("a condition sees the batch's earlier writes to the key") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  const auto outcomes = apply_outcomes(index, {
      put_if("k", record(1), Expected::absent()),
      put_if("k", record(2), Expected::absent()),           // k exists now
      put_if("k", record(3), Expected::record(record(1))),  // what the first write stored
      erase_if("k", Expected::record(record(3))),
      put_if("k", record(4), Expected::absent()),
  });
  CHECK(outcomes == std::vector<Applied>{Applied::written, Applied::condition_failed,
                                         Applied::written, Applied::written, Applied::written});
  CHECK(get_ok(index, "k") == record(4));
}

TEST_CASE("conditions work on long keys that share their first bytes") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  const std::string stem(600, 's');  // longer than LMDB's key limit: one bucket for both
  apply_ok(index, {put(stem + "/a", record(1)), put(stem + "/b", record(2))});
  CHECK(apply_outcomes(index, {put_if(stem + "/a", record(3), Expected::record(record(1))),
                               put_if(stem + "/b", record(4), Expected::record(record(1)))}) ==
        std::vector<Applied>{Applied::written, Applied::condition_failed});
  CHECK(get_ok(index, stem + "/a") == record(3));
  CHECK(get_ok(index, stem + "/b") == record(2));
}

TEST_CASE("an error still fails the whole batch, conditions or not") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  apply_ok(index, {put("k", record(1))});
  const std::vector<Write> batch = {put_if("k", record(2), Expected::record(record(1))),
                                    put("", record(3))};
  const auto applied = index.apply(batch);
  REQUIRE_FALSE(applied.has_value());
  CHECK(applied.error().code == mkv::errc::database);
  CHECK(get_ok(index, "k") == record(1));
}
