// Records: the JSON encoding of a record's volume list.
#include "mkv/record.h"

#include <doctest/doctest.h>

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
