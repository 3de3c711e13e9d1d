// What S3 keeps with an object besides its bytes: the headers a PutObject stores (Content-Type
// and the other standard representation headers, and the user's x-amz-meta-*), which GetObject
// and HeadObject send back. The index keeps them as Record::meta, the text encode_meta writes.
#pragma once

#include "mkv/s3_error.h"
#include "mkv/sigv4_canonical.h"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

// The stored headers: lower-case names, in ascending order, each once.
using StoredHeaders = std::vector<std::pair<std::string, std::string>>;

// The prefix of user metadata headers.
inline constexpr std::string_view user_meta_prefix = "x-amz-meta-";

// The most user metadata an object takes, as S3 counts it: the bytes of every x-amz-meta-*
// name (after the prefix) and value.
inline constexpr std::size_t max_user_meta_bytes = 2048;

// The standard headers PutObject stores and GetObject returns.
inline constexpr std::array<std::string_view, 6> stored_standard_headers = {
    "cache-control",    "content-disposition", "content-encoding",
    "content-language", "content-type",        "expires",
};

// Returns whether a request header (any case) is one an object keeps.
[[nodiscard]] inline bool is_stored_header(std::string_view name) {
  if (name.size() > user_meta_prefix.size() &&
      detail::iequals(name.substr(0, user_meta_prefix.size()), user_meta_prefix)) {
    return true;
  }
  return std::any_of(stored_standard_headers.begin(), stored_standard_headers.end(),
                     [&](std::string_view h) { return detail::iequals(h, name); });
}

// Returns the header a GetObject or HeadObject query parameter overrides in the reply
// (response-content-type: content-type; any standard stored header), or nothing.
[[nodiscard]] inline std::optional<std::string_view> overridden_header(std::string_view param) {
  constexpr std::string_view prefix = "response-";
  if (!param.starts_with(prefix)) return std::nullopt;
  const std::string_view header = param.substr(prefix.size());
  const bool standard = std::find(stored_standard_headers.begin(), stored_standard_headers.end(),
                                  header) != stored_standard_headers.end();
  return standard ? std::optional(header) : std::nullopt;
}

// Returns the headers of a request that an object keeps, or MetadataTooLarge when its user
// metadata is over max_user_meta_bytes. A name sent twice keeps its values joined by ",", as
// HTTP joins repeated fields.
[[nodiscard]] inline S3Result<StoredHeaders> stored_headers_of(std::span<const Header> headers) {
  StoredHeaders kept;
  std::size_t user_bytes = 0;
  for (const auto& h : headers) {
    if (!is_stored_header(h.name)) continue;
    std::string name(h.name);
    std::transform(name.begin(), name.end(), name.begin(), detail::lower);
    const std::string_view value = detail::trim_ows(h.value);
    if (name.starts_with(user_meta_prefix)) {
      user_bytes += name.size() - user_meta_prefix.size() + value.size();
    }
    const auto at =
        std::lower_bound(kept.begin(), kept.end(), name,
                         [](const auto& p, const std::string& n) { return p.first < n; });
    if (at != kept.end() && at->first == name) {
      at->second.append(",").append(value);
    } else {
      kept.emplace(at, std::move(name), std::string(value));
    }
  }
  if (user_bytes > max_user_meta_bytes) {
    return s3_error(s3errc::metadata_too_large,
                    "the x-amz-meta-* headers hold " + std::to_string(user_bytes) +
                        " bytes; S3 allows " + std::to_string(max_user_meta_bytes));
  }
  return kept;
}

// Returns the text the index keeps for stored headers: a JSON object from name to value ("" for
// none, so an object without them costs nothing).
[[nodiscard]] inline std::string encode_meta(const StoredHeaders& headers) {
  if (headers.empty()) return {};
  boost::json::object object;
  for (const auto& [name, value] : headers) object[name] = value;
  return boost::json::serialize(object);
}

// Returns the stored headers in text written by encode_meta; text that is not such an object
// (which mkv never writes) gives what of it is readable, so an object stays readable.
[[nodiscard]] inline StoredHeaders decode_meta(std::string_view text) {
  StoredHeaders headers;
  if (text.empty()) return headers;
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return headers;
  for (const auto& [name, v] : value.get_object()) {
    if (v.is_string() && is_stored_header(name)) {
      headers.emplace_back(std::string(name), std::string(v.get_string()));
    }
  }
  std::sort(headers.begin(), headers.end());
  return headers;
}

}  // namespace mkv
