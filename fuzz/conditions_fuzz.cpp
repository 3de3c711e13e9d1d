// libFuzzer target: the integrity headers (include/mkv/checksum.h, include/mkv/conditions.h).
// The input is up to five header values separated by '\n': If-Match, If-None-Match,
// If-Modified-Since, If-Unmodified-Since, Content-MD5 (a missing line is an absent header).
// Checks: a Content-MD5 that parses encodes back to one that parses to the same digest; an
// HTTP date that parses formats to an IMF-fixdate that parses back to the same second; a tag
// list that parses holds only quoted tags (weak ones with W/); the conditions evaluate against
// an absent, an unknown and a known record without failing, and their verdicts keep RFC 9110's
// rules (a write never gets 304, If-Match on an absent key fails, a read of a key whose ETag an
// If-None-Match names is 304 unless If-Match failed first).
#include <boost/json/src.hpp>

#include "mkv/checksum.h"
#include "mkv/conditions.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

void check_tags(const mkv::TagList& list) {
  if (list.any) {
    require(list.tags.empty());
    return;
  }
  require(!list.tags.empty());
  for (std::string_view tag : list.tags) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    require(tag.size() >= 2 && tag.front() == '"' && tag.back() == '"');
  }
}

void check_date(std::string_view text) {
  const auto seconds = mkv::parse_http_date(text);
  if (!seconds) return;
  const auto again = mkv::parse_http_date(mkv::format_http_date(*seconds));
  require(again && *again == *seconds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<std::optional<std::string_view>> lines(5);
  for (auto& line : lines) {
    if (bytes.empty()) break;
    const auto end = bytes.find('\n');
    line = bytes.substr(0, end);
    bytes = end == std::string_view::npos ? std::string_view() : bytes.substr(end + 1);
  }

  if (lines[4]) {
    if (const auto md5 = mkv::parse_content_md5(*lines[4])) {
      const auto again = mkv::parse_content_md5(mkv::content_md5_of(*md5));
      require(again && *again == *md5);
      require(mkv::to_hex(*md5).size() == 32);
    } else {
      require(md5.error().code == mkv::errc::bad_digest);
    }
  }
  for (std::size_t i = 2; i < 4; ++i) {
    if (lines[i]) check_date(*lines[i]);
  }

  const auto conditions = mkv::parse_conditions(lines[0], lines[1], lines[2], lines[3]);
  if (!conditions) {
    require(conditions.error().code == mkv::errc::invalid_condition);
    return 0;
  }
  if (conditions->if_match) check_tags(*conditions->if_match);
  if (conditions->if_none_match) check_tags(*conditions->if_none_match);

  const mkv::Record known{{"http://v1"}, size, mkv::md5_of(bytes), 1'000'000'000};
  const mkv::Record unknown{{"http://v1"}, size, std::nullopt, 0};
  for (const std::optional<mkv::Record>& record :
       {std::optional<mkv::Record>(), std::optional(known), std::optional(unknown)}) {
    for (const bool read : {true, false}) {
      const auto verdict = mkv::evaluate(*conditions, record, read);
      if (!read) require(verdict != mkv::Verdict::not_modified);
      if (conditions->if_match && !record) {
        require(verdict == mkv::Verdict::precondition_failed);
      }
      if (conditions->empty()) require(verdict == mkv::Verdict::proceed);
      if (read && record && record->md5 && conditions->if_none_match &&
          !conditions->if_match && !conditions->if_unmodified_since) {
        const auto etag = mkv::etag_of(*record->md5);
        bool named = conditions->if_none_match->any;
        for (std::string_view tag : conditions->if_none_match->tags) {
          if (tag.starts_with("W/")) tag.remove_prefix(2);
          named = named || tag == etag;
        }
        if (named) require(verdict == mkv::Verdict::not_modified);
      }
    }
  }
  return 0;
}
