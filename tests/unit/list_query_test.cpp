// Listing: query parsing, the range a listing scans, and the page it answers with.
#include "mkv/list_query.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("parse_list_query accepts these queries") {
  struct Case {
    std::string query;
    mkv::ListQuery parsed;
  };
  const std::vector<Case> cases = {
      {"", {"", "", 1000}},
      {"prefix=path/to/", {"path/to/", "", 1000}},
      {"prefix=a&limit=5&start=a/b", {"a", "a/b", 5}},
      {"limit=10000", {"", "", 10000}},
      {"limit=1", {"", "", 1}},
      {"prefix=a%20b", {"a b", "", 1000}},
      {"prefix=a+b", {"a b", "", 1000}},
      {"prefix=a%2Bb", {"a+b", "", 1000}},
      {"prefix=%C3%BC", {"\xC3\xBC", "", 1000}},
      {"prefix=", {"", "", 1000}},
      {"prefix", {"", "", 1000}},
      {"&&prefix=x&", {"x", "", 1000}},
      {"start=k%3F", {"", "k?", 1000}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.query);
    const auto q = mkv::parse_list_query(c.query);
    REQUIRE(q.has_value());
    CHECK(*q == c.parsed);
  }
}

TEST_CASE("parse_list_query rejects these queries") {
  struct Case {
    std::string query;
    std::string reason;
  };
  const std::string bad_limit = "limit must be a whole number from 1 to 10000";
  const std::vector<Case> cases = {
      {"limit=0", bad_limit},
      {"limit=10001", bad_limit},
      {"limit=-1", bad_limit},
      {"limit=abc", bad_limit},
      {"limit=", bad_limit},
      {"limit=5x", bad_limit},
      {"limit=99999999999999999999999999", bad_limit},
      {"limit=1.5", bad_limit},
      {"limit= 5", bad_limit},
      {"perfix=a", "unknown parameter perfix"},
      {"prefix=a&prefix=b", "parameter prefix given twice"},
      {"limit=1&limit=2", "parameter limit given twice"},
      {"prefix=%zz", "malformed percent-escape in prefix"},
      {"start=%", "malformed percent-escape in start"},
      {"prefix=%00", "control character in prefix"},
      {"start=%0A", "control character in start"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.query);
    const auto q = mkv::parse_list_query(c.query);
    REQUIRE_FALSE(q.has_value());
    CHECK(q.error().code == mkv::errc::invalid_query);
    CHECK(q.error().detail == c.reason);
  }
}

TEST_CASE("list_begin starts at the larger of start and prefix") {
  CHECK(mkv::list_begin({"b/", "", 10}) == "b/");
  CHECK(mkv::list_begin({"b/", "a", 10}) == "b/");
  CHECK(mkv::list_begin({"b/", "b/x", 10}) == "b/x");
  CHECK(mkv::list_begin({"", "m", 10}) == "m");
}

TEST_CASE("prefix_successor bounds a prefix range") {
  CHECK(mkv::prefix_successor("a") == "b");
  CHECK(mkv::prefix_successor("a/") == "a0");
  CHECK(mkv::prefix_successor("az") == "a{");
  CHECK(mkv::prefix_successor("a\xFF") == "b");
  CHECK(mkv::prefix_successor("a\xFF\xFF") == "b");
  CHECK(mkv::prefix_successor("\x7F") == "\x80");
  CHECK_FALSE(mkv::prefix_successor(""));
  CHECK_FALSE(mkv::prefix_successor("\xFF\xFF"));
}

TEST_CASE("make_list_page keeps limit rows and names the next one") {
  CHECK(mkv::make_list_page({"a", "b", "c"}, 2) == mkv::ListPage{{"a", "b"}, "c"});
  CHECK(mkv::make_list_page({"a", "b"}, 2) == mkv::ListPage{{"a", "b"}, ""});
  CHECK(mkv::make_list_page({}, 5) == mkv::ListPage{{}, ""});
}

TEST_CASE("encode_list_page writes the JSON body") {
  CHECK(mkv::encode_list_page({{"a", "b c"}, "d"}) == R"({"keys":["a","b c"],"next":"d"})");
  CHECK(mkv::encode_list_page({{}, ""}) == R"({"keys":[],"next":""})");
  CHECK(mkv::encode_list_page({{"q\"\\"}, ""}) == R"({"keys":["q\"\\"],"next":""})");
}
