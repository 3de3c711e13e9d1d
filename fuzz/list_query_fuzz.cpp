// libFuzzer target: list query parsing and page shaping (include/mkv/list_query.h).
// Any bytes as the query string: parse_list_query() either refuses them or returns a limit in
// 1..max_list_limit and a prefix and start without control bytes; the page built from any rows
// encodes to JSON that parses back to the same keys and next.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>

#include "mkv/list_query.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

bool has_control(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto query = mkv::parse_list_query(bytes);
  if (!query) return 0;
  require(query->limit >= 1 && query->limit <= mkv::max_list_limit);
  require(!has_control(query->prefix) && !has_control(query->start));
  const std::string_view begin = mkv::list_begin(*query);
  require(begin >= query->prefix && begin >= query->start);

  // The successor of the prefix bounds every key that starts with it.
  if (auto after = mkv::prefix_successor(query->prefix)) {
    require(*after > query->prefix);
    require(*after > query->prefix + std::string(8, '\xFF'));
    require(!std::string_view(*after).starts_with(query->prefix));
  } else {
    for (const char c : query->prefix) require(static_cast<unsigned char>(c) == 0xFF);
  }

  // A page of rows built from the parsed strings round-trips through its JSON.
  std::vector<std::string> rows = {query->prefix, query->start, query->prefix + query->start};
  const std::size_t limit = query->limit % 4;
  const auto page = mkv::make_list_page(rows, limit);
  require(page.keys.size() == std::min(limit, rows.size()));
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;
  const auto json = boost::json::parse(mkv::encode_list_page(page), ec, {}, options);
  require(!ec);
  const auto& keys = json.at("keys").as_array();
  require(keys.size() == page.keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) require(keys[i].as_string() == page.keys[i]);
  require(json.at("next").as_string() == page.next);
  return 0;
}
