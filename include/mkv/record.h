// The index record of one key, and its on-disk encoding of the volume list as a JSON array.
#pragma once

#include "mkv/error.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// Where a key's blob lives and how big it is. volumes are volume URLs in placement order:
// volumes[0] is the one a GET redirects to.
struct Record {
  std::vector<std::string> volumes;
  std::uint64_t size = 0;

  friend bool operator==(const Record&, const Record&) = default;
};

// A key together with its record, as listed by an index scan.
struct Entry {
  std::string key;
  Record record;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// One change to the index: store record under key, or remove key when record is empty.
struct Write {
  std::string key;
  std::optional<Record> record;
};

// Returns the JSON array text for a volume list, e.g. ["http://a:1","http://b:2"].
[[nodiscard]] inline std::string encode_volumes(const std::vector<std::string>& volumes) {
  boost::json::array array;
  array.reserve(volumes.size());
  for (const auto& v : volumes) array.emplace_back(v);
  return boost::json::serialize(array);
}

// Returns the volume list encoded by encode_volumes, or nullopt if text is not a JSON array
// of strings.
[[nodiscard]] inline std::optional<std::vector<std::string>> parse_volumes(std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_array()) return std::nullopt;
  std::vector<std::string> volumes;
  volumes.reserve(value.get_array().size());
  for (const auto& item : value.get_array()) {
    if (!item.is_string()) return std::nullopt;
    volumes.emplace_back(item.get_string());
  }
  return volumes;
}

}  // namespace mkv
