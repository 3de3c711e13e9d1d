// The text building blocks every report uses: byte counts, rates and durations.
#include "mkv/format.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>

TEST_CASE("format_bytes uses binary units with one decimal") {
  struct Case {
    std::uint64_t bytes;
    std::string_view text;
  };
  const Case cases[] = {
      {0, "0 B"},
      {1, "1 B"},
      {1023, "1023 B"},
      {1024, "1.0 KiB"},
      {1536, "1.5 KiB"},
      {1024 * 1024 - 1, "1024.0 KiB"},
      {1024 * 1024, "1.0 MiB"},
      {5'368'709'120ull, "5.0 GiB"},
      {1'099'511'627'776ull + 109'951'162'778ull, "1.1 TiB"},
      {18446744073709551615ull, "16.0 EiB"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.bytes);
    CHECK(mkv::format_bytes(c.bytes) == c.text);
  }
}

TEST_CASE("per_second divides and rounds down, and is 0 before any time has passed") {
  struct Case {
    std::uint64_t count;
    double seconds;
    std::uint64_t rate;
  };
  const Case cases[] = {
      {0, 0.0, 0},     {100, 0.0, 0},   {100, -1.0, 0}, {100, 1.0, 100},
      {100, 3.0, 33},  {1, 0.5, 2},     {0, 2.0, 0},    {20000, 0.8, 25000},
  };
  for (const auto& c : cases) {
    CAPTURE(c.count);
    CAPTURE(c.seconds);
    CHECK(mkv::per_second(c.count, c.seconds) == c.rate);
  }
}

TEST_CASE("format_rate: tenths below 10 a second, whole numbers above, 0 before any time") {
  struct Case {
    std::uint64_t count;
    double seconds;
    std::string_view text;
  };
  const Case cases[] = {
      {0, 0.0, "0"},    {5, 0.0, "0"},    {0, 2.0, "0.0"},  {16, 16.7, "0.9"},
      {2, 2.0, "1.0"},  {99, 10.0, "9.9"}, {10, 1.0, "10"},  {20000, 3.5, "5714"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.count);
    CAPTURE(c.seconds);
    CHECK(mkv::format_rate(c.count, c.seconds) == c.text);
  }
}

TEST_CASE("format_duration: tenths below a minute, then minutes, then hours") {
  struct Case {
    double seconds;
    std::string_view text;
  };
  const Case cases[] = {
      {-1.0, "0.0 s"},       {0.0, "0.0 s"},         {0.25, "0.2 s"},
      {1.94, "1.9 s"},       {59.99, "59.9 s"},      {60.0, "1 min 0 s"},
      {245.7, "4 min 5 s"},  {3599.9, "59 min 59 s"}, {3600.0, "1 h 0 min"},
      {7380.0, "2 h 3 min"}, {90061.0, "25 h 1 min"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.seconds);
    CHECK(mkv::format_duration(c.seconds) == c.text);
  }
}
