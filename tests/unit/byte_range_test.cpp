// Byte ranges: which bytes a Range header selects, which headers are ignored (the whole object
// is sent), which are unsatisfiable, and the Content-Range texts.
#include "mkv/byte_range.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using mkv::ByteRange;

TEST_CASE("resolve_range selects one byte range, clamped to the object") {
  const struct {
    const char* header;
    std::uint64_t size;
    std::uint64_t first, last;
  } rows[] = {
      {"bytes=0-9", 100, 0, 9},
      {"bytes=10-", 100, 10, 99},
      {"bytes=90-200", 100, 90, 99},
      {"bytes=-10", 100, 90, 99},
      {"bytes=-1000", 100, 0, 99},
      {"bytes=99-99", 100, 99, 99},
      {" bytes=0-0 ", 1, 0, 0},
      {"bytes=0-", 1, 0, 0},
      {"bytes=1073741824-1073741825", 2147483648ULL, 1073741824, 1073741825},
  };
  for (const auto& r : rows) {
    CAPTURE(r.header);
    const auto range = mkv::resolve_range(std::string_view(r.header), r.size);
    REQUIRE(range.has_value());
    REQUIRE(range->has_value());
    CHECK(**range == ByteRange{r.first, r.last});
  }
}

TEST_CASE("a Range that is not one byte range is ignored: the whole object") {
  for (const char* header :
       {"", "bytes=", "bytes=-", "items=0-9", "bytes=a-9", "bytes=0-b", "bytes=5-3",
        "bytes=0-1,3-4", "bytes 0-9", "bytes=-x", "bytes=99999999999999999999-"}) {
    CAPTURE(header);
    const auto range = mkv::resolve_range(std::string_view(header), 100);
    REQUIRE(range.has_value());
    CHECK_FALSE(range->has_value());
  }
  CHECK_FALSE(mkv::resolve_range(std::nullopt, 100).value().has_value());
}

TEST_CASE("a range past the end, or of an empty object, is InvalidRange") {
  const struct {
    const char* header;
    std::uint64_t size;
  } rows[] = {{"bytes=100-", 100}, {"bytes=100-200", 100}, {"bytes=-0", 100},
              {"bytes=0-0", 0},    {"bytes=-5", 0},        {"bytes=0-", 0}};
  for (const auto& r : rows) {
    CAPTURE(r.header);
    const auto range = mkv::resolve_range(std::string_view(r.header), r.size);
    REQUIRE_FALSE(range.has_value());
    CHECK(range.error().code == mkv::s3errc::invalid_range);
    CHECK(mkv::http_status(range.error().code) == 416);
  }
}

TEST_CASE("Content-Range texts") {
  CHECK(mkv::content_range({0, 9}, 100) == "bytes 0-9/100");
  CHECK(mkv::unsatisfied_range(100) == "bytes */100");
  CHECK(ByteRange{5, 5}.length() == 1);
}
