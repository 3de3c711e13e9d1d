// Conditional requests: HTTP dates, entity-tag lists, and what If-Match, If-None-Match,
// If-Modified-Since and If-Unmodified-Since decide against the key's record.
#include "mkv/conditions.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using mkv::Conditions;
using mkv::Record;
using mkv::TagList;
using mkv::Verdict;

TEST_CASE("HTTP dates in their three forms, and what is not one") {
  constexpr std::int64_t t = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example)
  CHECK(mkv::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == t);
  CHECK(mkv::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == t);
  CHECK(mkv::parse_http_date("Sun Nov  6 08:49:37 1994") == t);
  CHECK(mkv::parse_http_date(" Sun, 06 Nov 1994 08:49:37 GMT ") == t);
  CHECK(mkv::parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
  CHECK(mkv::parse_http_date("Mon, 30 Nov 2026 12:00:00 GMT") == 1796040000);
  for (const std::string bad :
       {"", "yesterday", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT", "1764500000",
        "Fri, 31 Dec 9999 23:59:60 GMT"}) {  // a leap second past the last 4-digit year
    CAPTURE(bad);
    CHECK_FALSE(mkv::parse_http_date(bad));
  }
  CHECK(mkv::format_http_date(t) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(mkv::format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(mkv::parse_http_date(mkv::format_http_date(1796040000)) == 1796040000);
  // Years before 1000 keep their four digits (found by fuzz/conditions_fuzz.cpp).
  const auto early = mkv::parse_http_date("Fri, 30 Nov 0260 14:31:54 GMT");  // the weekday is computed
  REQUIRE(early.has_value());
  CHECK(mkv::format_http_date(*early) == "Fri, 30 Nov 0260 14:31:54 GMT");  // the weekday is computed
}

TEST_CASE("entity-tag lists") {
  CHECK(mkv::parse_tag_list("*").value() == TagList{true, {}});
  CHECK(mkv::parse_tag_list("\"a\"").value() == TagList{false, {"\"a\""}});
  CHECK(mkv::parse_tag_list(" \"a\" , W/\"b\",\"c\" ").value() ==
        TagList{false, {"\"a\"", "W/\"b\"", "\"c\""}});
  for (const std::string bad : {"", "a", "\"a", "\"a\" \"b\"", "\"a\",", "W/a", "\"a b\"", ",\"a\""}) {
    CAPTURE(bad);
    const auto list = mkv::parse_tag_list(bad);
    REQUIRE_FALSE(list.has_value());
    CHECK(list.error().code == mkv::errc::invalid_condition);
  }
}

TEST_CASE("evaluate: a table of conditions against the key's record") {
  Record current{{"http://v1"}, 3, mkv::md5_of("abc"), 1000};
  Record unknown{{"http://v1"}, 3, std::nullopt, 1000};
  Record undated{{"http://v1"}, 3, mkv::md5_of("abc"), 0};  // upgraded: write time unknown
  const std::string etag = "\"900150983cd24fb0d6963f7d28e17f72\"";
  const std::string other = "\"00000000000000000000000000000000\"";
  const auto tags = [](std::string tag) { return TagList{false, {std::move(tag)}}; };
  const TagList any{true, {}};
  struct Case {
    const char* what;
    Conditions c;
    std::optional<Record> record;
    bool read;
    Verdict verdict;
  };
  const std::vector<Case> cases = {
      {"none", {}, current, true, Verdict::proceed},
      {"If-Match the etag", {tags(etag), {}, {}, {}}, current, false, Verdict::proceed},
      {"If-Match another", {tags(other), {}, {}, {}}, current, false,
       Verdict::precondition_failed},
      {"If-Match a weak tag (strong comparison)", {tags("W/" + etag), {}, {}, {}}, current, false,
       Verdict::precondition_failed},
      {"If-Match one of a list", {TagList{false, {other, etag}}, {}, {}, {}}, current, false,
       Verdict::proceed},
      {"If-Match *, key exists", {any, {}, {}, {}}, current, false, Verdict::proceed},
      {"If-Match *, key absent", {any, {}, {}, {}}, std::nullopt, false,
       Verdict::precondition_failed},
      {"If-Match, checksum unknown", {tags(etag), {}, {}, {}}, unknown, false,
       Verdict::precondition_failed},
      {"If-None-Match *, key absent: create", {{}, any, {}, {}}, std::nullopt, false,
       Verdict::proceed},
      {"If-None-Match *, key exists: refuse", {{}, any, {}, {}}, current, false,
       Verdict::precondition_failed},
      {"If-None-Match the etag, GET: 304", {{}, tags(etag), {}, {}}, current, true,
       Verdict::not_modified},
      {"If-None-Match a weak etag, GET: 304 (weak comparison)", {{}, tags("W/" + etag), {}, {}},
       current, true, Verdict::not_modified},
      {"If-None-Match another, GET", {{}, tags(other), {}, {}}, current, true, Verdict::proceed},
      {"If-None-Match the etag, PUT: 412", {{}, tags(etag), {}, {}}, current, false,
       Verdict::precondition_failed},
      {"If-Modified-Since after the write: 304", {{}, {}, 2000, {}}, current, true,
       Verdict::not_modified},
      {"If-Modified-Since at the write: 304", {{}, {}, 1000, {}}, current, true,
       Verdict::not_modified},
      {"If-Modified-Since before the write", {{}, {}, 999, {}}, current, true, Verdict::proceed},
      {"If-Modified-Since on a write is ignored", {{}, {}, 2000, {}}, current, false,
       Verdict::proceed},
      {"If-None-Match wins over If-Modified-Since", {{}, tags(other), 2000, {}}, current, true,
       Verdict::proceed},
      {"If-Unmodified-Since before the write: 412", {{}, {}, {}, 999}, current, false,
       Verdict::precondition_failed},
      {"If-Unmodified-Since after the write", {{}, {}, {}, 1000}, current, true, Verdict::proceed},
      {"If-Match wins over If-Unmodified-Since", {tags(etag), {}, {}, 999}, current, false,
       Verdict::proceed},
      {"If-Modified-Since, write time unknown: ignored", {{}, {}, 2000, {}}, undated, true,
       Verdict::proceed},
      {"If-Unmodified-Since, write time unknown: ignored", {{}, {}, {}, 999}, undated, false,
       Verdict::proceed},
      {"If-None-Match still applies without a write time", {{}, tags(etag), 2000, {}}, undated,
       true, Verdict::not_modified},
      {"If-Match and If-None-Match both", {tags(etag), tags(etag), {}, {}}, current, true,
       Verdict::not_modified},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CHECK(mkv::evaluate(c.c, c.record, c.read) == c.verdict);
  }
}

TEST_CASE("parse_conditions reads the four headers; a bad date is ignored, a bad tag is not") {
  const auto c = mkv::parse_conditions("\"x\"", std::nullopt, "Sun, 06 Nov 1994 08:49:37 GMT",
                                       "not a date");
  REQUIRE(c.has_value());
  CHECK(c->if_match == TagList{false, {"\"x\""}});
  CHECK_FALSE(c->if_none_match);
  CHECK(c->if_modified_since == 784111777);
  CHECK_FALSE(c->if_unmodified_since);
  CHECK(mkv::parse_conditions(std::nullopt, std::nullopt, std::nullopt, std::nullopt)->empty());
  CHECK_FALSE(mkv::parse_conditions(std::nullopt, "nope", std::nullopt, std::nullopt).has_value());
}
