// The ETag of a stored blob: the quoted hex MD5 of its bytes, unless its record's meta names
// another. One kind of blob does: an object a multipart upload completed, whose S3 ETag is
// "<md5 of the parts' md5s>-N" (mkv/s3_multipart.h) while its record's MD5 is that of all its
// bytes (what verify checks). Both APIs answer and compare the same ETag.
#pragma once

#include "mkv/checksum.h"
#include "mkv/record.h"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mkv {

// The name the ETag takes in a record's meta (a JSON object); no header has it, so it is never
// sent back as one.
inline constexpr std::string_view etag_meta_field = "mkv-etag";

// Returns meta (a record's meta text: empty, or a JSON object) with its ETag set to etag.
[[nodiscard]] inline std::string meta_with_etag(std::string_view meta, std::string_view etag) {
  boost::json::object object;
  if (!meta.empty()) {
    boost::system::error_code ec;
    auto value = boost::json::parse(meta, ec);
    if (!ec && value.is_object()) object = std::move(value.get_object());
  }
  object[etag_meta_field] = etag;
  return boost::json::serialize(object);
}

// Returns the ETag a record's meta names, or nothing (most records: their ETag is their MD5's).
[[nodiscard]] inline std::optional<std::string> meta_etag(std::string_view meta) {
  if (meta.find(etag_meta_field) == std::string_view::npos) return std::nullopt;  // cheap path
  boost::system::error_code ec;
  const auto value = boost::json::parse(meta, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto* etag = value.get_object().if_contains(etag_meta_field);
  if (!etag || !etag->is_string()) return std::nullopt;
  return std::string(etag->get_string());
}

// Returns the ETag of a record, or nullopt when its checksum is unknown.
[[nodiscard]] inline std::optional<std::string> etag_of(const Record& r) {
  if (auto named = meta_etag(r.meta)) return named;
  if (!r.md5) return std::nullopt;
  return etag_of(*r.md5);
}

}  // namespace mkv
