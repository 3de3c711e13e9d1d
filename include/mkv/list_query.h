// Listing: parsing `GET /?prefix=P&limit=N&start=K` and shaping one page of the answer.
#pragma once

#include "mkv/error.h"
#include "mkv/key.h"

#include <boost/json.hpp>
#include <boost/url/decode_view.hpp>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/pct_string_view.hpp>

#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

inline constexpr std::size_t default_list_limit = 1000;
inline constexpr std::size_t max_list_limit = 10000;

// A parsed list request: keys that start with prefix, from start (inclusive), at most limit.
struct ListQuery {
  std::string prefix;
  std::string start;
  std::size_t limit = default_list_limit;

  friend bool operator==(const ListQuery&, const ListQuery&) = default;
};

// Returns s with %XX escapes decoded and '+' read as a space (HTML form encoding), or nullopt
// if an escape is malformed.
[[nodiscard]] inline std::optional<std::string> query_decode(std::string_view s) {
  const auto escaped = boost::urls::make_pct_string_view(s);
  if (!escaped) return std::nullopt;
  boost::urls::encoding_opts form;
  form.space_as_plus = true;
  const boost::urls::decode_view decoded(*escaped, form);
  return std::string(decoded.begin(), decoded.end());
}

// Returns the list request of a query string (the target after '?', possibly empty), or
// invalid_query naming the problem: an unknown or repeated parameter, a malformed escape,
// a control byte, or a limit that is not a whole number in 1..max_list_limit.
[[nodiscard]] inline Result<ListQuery> parse_list_query(std::string_view query) {
  ListQuery q;
  bool seen_prefix = false, seen_start = false, seen_limit = false;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    auto value =
        query_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!value) return Error::invalid_query("malformed percent-escape in " + std::string(name));
    for (const char c : *value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
        return Error::invalid_query("control character in " + std::string(name));
      }
    }
    const auto once = [&](bool& seen) -> std::optional<Error> {
      if (seen) return Error::invalid_query("parameter " + std::string(name) + " given twice");
      seen = true;
      return std::nullopt;
    };
    if (name == "prefix") {
      if (auto e = once(seen_prefix)) return *e;
      q.prefix = std::move(*value);
    } else if (name == "start") {
      if (auto e = once(seen_start)) return *e;
      q.start = std::move(*value);
    } else if (name == "limit") {
      if (auto e = once(seen_limit)) return *e;
      std::size_t limit = 0;
      const char* first = value->data();
      const char* last = first + value->size();
      const auto [end, ec] = std::from_chars(first, last, limit);
      if (value->empty() || ec != std::errc{} || end != last || limit < 1 ||
          limit > max_list_limit) {
        return Error::invalid_query("limit must be a whole number from 1 to " +
                                    std::to_string(max_list_limit));
      }
      q.limit = limit;
    } else {
      return Error::invalid_query("unknown parameter " + std::string(name));
    }
  }
  return q;
}

// Returns where a listing begins: the larger of start and prefix (keys below the prefix can
// never match it).
[[nodiscard]] inline std::string_view list_begin(const ListQuery& q) {
  return q.start > q.prefix ? std::string_view(q.start) : std::string_view(q.prefix);
}

// Returns the smallest string greater than every string that starts with prefix, or nullopt
// if there is none (prefix empty or all 0xFF bytes). An index range scan stops before it.
[[nodiscard]] inline std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(s.back());
    if (last != 0xFF) {
      ++last;
      return s;
    }
    s.pop_back();
  }
  return std::nullopt;
}

// One page of a listing: the keys to show and the start of the next page ("" at the end).
struct ListPage {
  std::vector<std::string> keys;
  std::string next;

  friend bool operator==(const ListPage&, const ListPage&) = default;
};

// Returns the page for rows fetched with limit + 1: the first limit rows, and the row after
// them as next when the index had more.
[[nodiscard]] inline ListPage make_list_page(std::vector<std::string> rows, std::size_t limit) {
  ListPage page;
  if (rows.size() > limit) {
    page.next = std::move(rows[limit]);
    rows.resize(limit);
  }
  page.keys = std::move(rows);
  return page;
}

// Stores page in v as {"keys":[...],"next":"..."} (Boost.JSON's value_from finds it by
// argument-dependent lookup).
inline void tag_invoke(boost::json::value_from_tag, boost::json::value& v, const ListPage& page) {
  v = {{"keys", boost::json::value_from(page.keys)}, {"next", page.next}};
}

// Returns the JSON body of a page: {"keys":[...],"next":"..."}.
[[nodiscard]] inline std::string encode_list_page(const ListPage& page) {
  return boost::json::serialize(boost::json::value_from(page));
}

}  // namespace mkv
