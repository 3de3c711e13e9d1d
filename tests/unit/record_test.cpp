// Records: the JSON encoding of a record's volume list, and the condition a write puts on the
// record it replaces.
#include "mkv/record.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

TEST_CASE("encode_volumes and parse_volumes round-trip") {
  const std::vector<std::vector<std::string>> lists = {
      {}, {"http://a:1"}, {"http://a:1", "http://b:2/x"}, {"http://q\"uote:1"}};
  for (const auto& list : lists) {
    const auto text = mkv::encode_volumes(list);
    CAPTURE(text);
    CHECK(mkv::parse_volumes(text) == list);
  }
  CHECK(mkv::encode_volumes({"http://a:1", "http://b:2"}) == R"(["http://a:1","http://b:2"])");
}

TEST_CASE("parse_volumes rejects what is not a JSON array of strings") {
  for (const std::string text : {"", "[", "{}", "\"a\"", "[1]", "[\"a\",null]", "[\"a\"] x"}) {
    CAPTURE(text);
    CHECK_FALSE(mkv::parse_volumes(text).has_value());
  }
}

TEST_CASE("Expected: the condition a write puts on the key's current record") {
  using mkv::Expected;
  using mkv::Record;
  const Record a{{"http://v1"}, 10};
  const Record b{{"http://v2"}, 10};
  struct Case {
    Expected expected;
    std::optional<Record> current;
    bool holds;
  };
  const Case cases[] = {
      {Expected::anything(), std::nullopt, true},
      {Expected::anything(), a, true},
      {Expected::absent(), std::nullopt, true},
      {Expected::absent(), a, false},
      {Expected::record(a), a, true},
      {Expected::record(a), b, false},
      {Expected::record(a), Record{{"http://v1"}, 11}, false},  // same volumes, other size
      {Expected::record(a), std::nullopt, false},
      {Expected::current(std::nullopt), std::nullopt, true},
      {Expected::current(std::nullopt), a, false},
      {Expected::current(a), a, true},
      {Expected::current(a), b, false},
  };
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    CAPTURE(i);
    CHECK(cases[i].expected.holds(cases[i].current) == cases[i].holds);
  }
  CHECK(Expected::current(a) == Expected::record(a));
  CHECK(Expected::current(std::nullopt) == Expected::absent());
  CHECK_FALSE(Expected::absent() == Expected::anything());
}

TEST_CASE("a Write applies unconditionally unless it says otherwise") {
  const mkv::Write w{"k", mkv::Record{{"http://v1"}, 1}};
  CHECK(w.expected == mkv::Expected::anything());
}
