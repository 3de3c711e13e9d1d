// Conditional requests (RFC 9110, section 13): the If-Match, If-None-Match, If-Modified-Since
// and If-Unmodified-Since headers of a request, HTTP dates, and what the conditions say against
// the key's current record. PUT and DELETE evaluate them under the key's write lock, so the
// check and the write are one atomic step (create-only PUTs, compare-and-swap).
#pragma once

#include "mkv/checksum.h"
#include "mkv/object_etag.h"
#include "mkv/record.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// One side of an ETag comparison: "*", or a list of entity tags (each with its quotes, a weak
// one with its W/ prefix).
struct TagList {
  bool any = false;               // "*"
  std::vector<std::string> tags;  // e.g. "\"0123...\"" or "W/\"0123...\""

  friend bool operator==(const TagList&, const TagList&) = default;
};

// The conditions a request carries; an absent header is nullopt. A date that cannot be parsed
// is ignored, as RFC 9110 asks.
struct Conditions {
  std::optional<TagList> if_match;
  std::optional<TagList> if_none_match;
  std::optional<std::int64_t> if_modified_since;    // seconds since the epoch
  std::optional<std::int64_t> if_unmodified_since;  // seconds since the epoch

  [[nodiscard]] bool empty() const {
    return !if_match && !if_none_match && !if_modified_since && !if_unmodified_since;
  }
  friend bool operator==(const Conditions&, const Conditions&) = default;
};

// What the conditions decide.
enum class Verdict {
  proceed,              // carry out the request
  not_modified,         // answer 304 (GET and HEAD)
  precondition_failed,  // answer 412
};

namespace detail {

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Returns the three-letter month's number (1..12), or 0.
inline unsigned month_number(std::string_view m) {
  static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < 12; ++i) {
    if (m == months[i]) return i + 1;
  }
  return 0;
}

// Returns the number written with exactly `digits` digits at the front of s, or nullopt.
inline std::optional<int> take_number(std::string_view& s, std::size_t digits) {
  if (s.size() < digits) return std::nullopt;
  int n = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    n = n * 10 + (s[i] - '0');
  }
  s.remove_prefix(digits);
  return n;
}

inline bool take(std::string_view& s, std::string_view expected) {
  if (!s.starts_with(expected)) return false;
  s.remove_prefix(expected.size());
  return true;
}

}  // namespace detail

// Returns the seconds since the epoch of an HTTP date: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37
// GMT"), or the obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6
// 08:49:37 1994") forms; nullopt for anything else.
[[nodiscard]] inline std::optional<std::int64_t> parse_http_date(std::string_view text) {
  using namespace std::chrono;
  std::string_view s = detail::trim(text);
  const std::size_t comma = s.find(',');
  std::optional<int> day, year, hour, minute, second;
  unsigned month = 0;
  if (comma == 3) {  // IMF-fixdate
    s.remove_prefix(4);
    if (!detail::take(s, " ")) return std::nullopt;
    day = detail::take_number(s, 2);
    if (!detail::take(s, " ")) return std::nullopt;
    month = detail::month_number(s.substr(0, 3));
    s.remove_prefix(std::min<std::size_t>(3, s.size()));
    if (!detail::take(s, " ")) return std::nullopt;
    year = detail::take_number(s, 4);
  } else if (comma != std::string_view::npos) {  // RFC 850
    s.remove_prefix(comma + 1);
    if (!detail::take(s, " ")) return std::nullopt;
    day = detail::take_number(s, 2);
    if (!detail::take(s, "-")) return std::nullopt;
    month = detail::month_number(s.substr(0, 3));
    s.remove_prefix(std::min<std::size_t>(3, s.size()));
    if (!detail::take(s, "-")) return std::nullopt;
    year = detail::take_number(s, 2);
    if (year) *year += *year < 70 ? 2000 : 1900;
  } else {  // asctime: "Sun Nov  6 08:49:37 1994"
    if (s.size() != 24) return std::nullopt;
    month = detail::month_number(s.substr(4, 3));
    std::string_view d = s.substr(8, 2);
    if (d.front() == ' ') d.remove_prefix(1);
    day = detail::take_number(d, d.size());
    std::string_view rest = s.substr(10);
    if (!detail::take(rest, " ")) return std::nullopt;
    hour = detail::take_number(rest, 2);
    if (!detail::take(rest, ":")) return std::nullopt;
    minute = detail::take_number(rest, 2);
    if (!detail::take(rest, ":")) return std::nullopt;
    second = detail::take_number(rest, 2);
    if (!detail::take(rest, " ")) return std::nullopt;
    year = detail::take_number(rest, 4);
    s = rest;
  }
  if (!hour) {
    if (!detail::take(s, " ")) return std::nullopt;
    hour = detail::take_number(s, 2);
    if (!detail::take(s, ":")) return std::nullopt;
    minute = detail::take_number(s, 2);
    if (!detail::take(s, ":")) return std::nullopt;
    second = detail::take_number(s, 2);
    if (!detail::take(s, " GMT")) return std::nullopt;
  }
  if (!s.empty() || !day || !year || !hour || !minute || !second || month == 0) {
    return std::nullopt;
  }
  const year_month_day date{std::chrono::year(*year), std::chrono::month(month),
                            std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  const auto at = sys_days(date) + hours(*hour) + minutes(*minute) + seconds(*second);
  constexpr std::int64_t last_second_of_9999 = 253402300799;  // a leap second may pass it
  if (at.time_since_epoch().count() > last_second_of_9999) return std::nullopt;
  return at.time_since_epoch().count();
}

// Returns the IMF-fixdate of a time in seconds since the epoch, e.g. "Sun, 06 Nov 1994
// 08:49:37 GMT" (the Last-Modified header's form).
[[nodiscard]] inline std::string format_http_date(std::int64_t epoch_seconds) {
  using namespace std::chrono;
  static constexpr const char* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_seconds at{seconds(epoch_seconds)};
  const sys_days day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss time{at - day};
  const auto two = [](long n) {
    std::string s = std::to_string(n);
    return s.size() < 2 ? '0' + s : s;
  };
  const auto four = [](int n) {  // years 0..9999, the ones a date can be parsed from
    std::string s = std::to_string(n);
    return s.size() < 4 ? std::string(4 - s.size(), '0') + s : s;
  };
  return std::string(weekdays[weekday(day).c_encoding()]) + ", " +
         two(static_cast<unsigned>(date.day())) + ' ' +
         months[static_cast<unsigned>(date.month()) - 1] + ' ' +
         four(static_cast<int>(date.year())) + ' ' + two(time.hours().count()) + ':' +
         two(time.minutes().count()) + ':' + two(time.seconds().count()) + " GMT";
}

// Returns the entity tags of an If-Match or If-None-Match value: "*", or a comma-separated list
// of quoted tags, weak or strong; invalid_condition for anything else.
[[nodiscard]] inline Result<TagList> parse_tag_list(std::string_view value) {
  value = detail::trim(value);
  TagList list;
  if (value == "*") {
    list.any = true;
    return list;
  }
  const auto bad = [&] {
    return Error::invalid_condition("not an entity-tag list: " + std::string(value));
  };
  while (!value.empty()) {
    std::size_t start = 0;
    if (value.starts_with("W/")) start = 2;
    if (value.size() < start + 2 || value[start] != '"') return bad();
    const std::size_t close = value.find('"', start + 1);
    if (close == std::string_view::npos) return bad();
    const std::string_view tag = value.substr(0, close + 1);
    for (const char c : tag.substr(start + 1, tag.size() - start - 2)) {
      const auto b = static_cast<unsigned char>(c);
      if (b < 0x21 || b == 0x7F) return bad();  // etagc: no spaces or controls
    }
    list.tags.emplace_back(tag);
    value = detail::trim(value.substr(close + 1));
    if (value.empty()) break;
    if (value.front() != ',') return bad();
    value = detail::trim(value.substr(1));
    if (value.empty()) return bad();
  }
  if (list.tags.empty()) return bad();
  return list;
}

// Returns the conditions of a request's header values (nullopt: the header was not sent), or
// invalid_condition for a malformed tag list.
[[nodiscard]] inline Result<Conditions> parse_conditions(
    std::optional<std::string_view> if_match, std::optional<std::string_view> if_none_match,
    std::optional<std::string_view> if_modified_since,
    std::optional<std::string_view> if_unmodified_since) {
  Conditions c;
  if (if_match) {
    auto list = parse_tag_list(*if_match);
    if (!list) return list.error();
    c.if_match = std::move(*list);
  }
  if (if_none_match) {
    auto list = parse_tag_list(*if_none_match);
    if (!list) return list.error();
    c.if_none_match = std::move(*list);
  }
  if (if_modified_since) c.if_modified_since = parse_http_date(*if_modified_since);
  if (if_unmodified_since) c.if_unmodified_since = parse_http_date(*if_unmodified_since);
  return c;
}

namespace detail {

// Returns whether list names the etag of current: "*" matches any record; a tag matches when
// its opaque part equals the record's (strong: both strong; weak: W/ is ignored).
inline bool tags_match(const TagList& list, const std::optional<Record>& current, bool strong) {
  if (!current) return false;
  if (list.any) return true;
  const auto etag = etag_of(*current);
  if (!etag) return false;
  for (const auto& tag : list.tags) {
    const bool weak = tag.starts_with("W/");
    if (strong && weak) continue;
    if ((weak ? tag.substr(2) : tag) == *etag) return true;
  }
  return false;
}

}  // namespace detail

// Returns what the conditions decide for a request (read: GET or HEAD; else PUT or DELETE) on a
// key whose current record is current, in RFC 9110's order: If-Match, else If-Unmodified-Since;
// then If-None-Match, else (reads only) If-Modified-Since. A record whose write time is unknown
// (0: upgraded from schema version 2 or earlier) has no Last-Modified, and the date conditions
// are ignored for it, as for a resource without one. A read of an absent key is answered 404
// before this is asked.
[[nodiscard]] inline Verdict evaluate(const Conditions& c, const std::optional<Record>& current,
                                      bool read) {
  const bool dated = current && current->modified > 0;
  if (c.if_match) {
    if (!detail::tags_match(*c.if_match, current, true)) return Verdict::precondition_failed;
  } else if (c.if_unmodified_since && dated && current->modified > *c.if_unmodified_since) {
    return Verdict::precondition_failed;
  }
  if (c.if_none_match) {
    if (detail::tags_match(*c.if_none_match, current, false)) {
      return read ? Verdict::not_modified : Verdict::precondition_failed;
    }
  } else if (read && c.if_modified_since && dated && current->modified <= *c.if_modified_since) {
    return Verdict::not_modified;
  }
  return Verdict::proceed;
}

}  // namespace mkv
