// Parsing nginx JSON directory listings: names, kinds, sizes, and the inputs that are rejected.
#include "mkv/autoindex.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using mkv::ListingEntry;
using mkv::ListingKind;

TEST_CASE("parse_autoindex reads a listing as nginx writes it") {
  const std::string_view text =
      "[\r\n"
      "{ \"name\":\"photos\", \"type\":\"directory\", \"mtime\":\"Wed, 01 Jan 2025 10:00:00 GMT\" },\r\n"
      "{ \"name\":\"notes.txt\", \"type\":\"file\", \"mtime\":\"Wed, 01 Jan 2025 10:00:00 GMT\", "
      "\"size\":12 },\r\n"
      "{ \"name\":\"fifo\", \"type\":\"other\", \"mtime\":\"Wed, 01 Jan 2025 10:00:00 GMT\" }\r\n"
      "]\r\n";
  const auto entries = mkv::parse_autoindex(text);
  REQUIRE(entries.has_value());
  REQUIRE(entries->size() == 3);
  CHECK((*entries)[0] == ListingEntry{"photos", ListingKind::directory, 0});
  CHECK((*entries)[1] == ListingEntry{"notes.txt", ListingKind::file, 12, 1735725600});
  CHECK((*entries)[2] == ListingEntry{"fifo", ListingKind::other, 0});
}

TEST_CASE("parse_autoindex reads an empty directory") {
  const auto entries = mkv::parse_autoindex("[\r\n\r\n]");
  REQUIRE(entries.has_value());
  CHECK(entries->empty());
}

TEST_CASE("parse_autoindex unescapes names into raw bytes") {
  struct Case {
    std::string_view json_name;  // the name as it appears between the quotes
    std::string_view name;       // the bytes it stands for
  };
  const Case cases[] = {
      {"with space", "with space"},
      {"100%25 and %", "100%25 and %"},
      {"say \\\"hi\\\"", "say \"hi\""},
      {"back\\\\slash", "back\\slash"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
      {"caf\\u00e9", "caf\xC3\xA9"},
      {"\\u65e5\\u672c", "\xE6\x97\xA5\xE6\x9C\xAC"},
      {"\\ud83d\\ude00", "\xF0\x9F\x98\x80"},
      {"tab\\there", "tab\there"},
      {"nul\\u0000byte", std::string_view("nul\0byte", 8)},
      {"latin1 \xE9t\xE9", "latin1 \xE9t\xE9"},  // nginx lists non-UTF-8 names as raw bytes
      {".hidden", ".hidden"},
      {"...", "..."},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json_name);
    const std::string text = "[{\"name\":\"" + std::string(c.json_name) +
                             "\",\"type\":\"file\",\"size\":1}]";
    const auto entries = mkv::parse_autoindex(text);
    REQUIRE(entries.has_value());
    REQUIRE(entries->size() == 1);
    CHECK((*entries)[0].name == c.name);
  }
}

TEST_CASE("parse_autoindex reads sizes up to 2^64-1 and ignores them for non-files") {
  auto entries = mkv::parse_autoindex(
      R"([{"name":"big","type":"file","size":18446744073709551615},)"
      R"({"name":"zero","type":"file","size":0},)"
      R"({"name":"d","type":"directory","size":4096},)"
      R"({"name":"l","type":"symlink"}])");
  REQUIRE(entries.has_value());
  REQUIRE(entries->size() == 4);
  CHECK((*entries)[0].size == 18446744073709551615ull);
  CHECK((*entries)[1].size == 0);
  CHECK((*entries)[2] == ListingEntry{"d", ListingKind::directory, 0});
  CHECK((*entries)[3].kind == ListingKind::other);  // an unknown type is not an error
}

TEST_CASE("parse_autoindex rejects what is not a listing") {
  const std::string_view malformed[] = {
      "",
      "[",
      "<html><body>403 Forbidden</body></html>",
      "null",
      "{}",
      R"({"name":"a","type":"file","size":1})",
      "[1]",
      "[[]]",
      R"([{"type":"file","size":1}])",
      R"([{"name":1,"type":"file","size":1}])",
      R"([{"name":null,"type":"file","size":1}])",
      R"([{"name":"a","size":1}])",
      R"([{"name":"a","type":1}])",
      R"([{"name":"a","type":"file"}])",
      R"([{"name":"a","type":"file","size":-1}])",
      R"([{"name":"a","type":"file","size":1.5}])",
      R"([{"name":"a","type":"file","size":"1"}])",
      R"([{"name":"a","type":"file","size":1e30}])",
      R"([{"name":"","type":"file","size":1}])",
      R"([{"name":".","type":"directory"}])",
      R"([{"name":"..","type":"directory"}])",
      R"([{"name":"a/b","type":"file","size":1}])",
      R"([{"name":"a\/b","type":"file","size":1}])",
      R"([{"name":"a","type":"directory"},])",
      R"([] trailing)",
      R"([{"name":"a","type":"directory"}] [])",
  };
  for (const auto text : malformed) {
    CAPTURE(text);
    const auto entries = mkv::parse_autoindex(text);
    REQUIRE_FALSE(entries.has_value());
    CHECK(entries.error().code == mkv::errc::malformed_listing);
    CHECK(entries.error().detail.starts_with("autoindex: "));
  }
}

TEST_CASE("parse_autoindex names the entry that is wrong") {
  const auto entries = mkv::parse_autoindex(
      R"([{"name":"a","type":"directory"},{"name":"b","type":"file"}])");
  REQUIRE_FALSE(entries.has_value());
  CHECK(entries.error().detail == "autoindex: entry 1: file without \"size\"");
}
