// S3 listing (ListObjects V1 and V2): parsing the query, and deciding one page of the answer
// from the index, which the caller reads through a callback a batch at a time, so that a page
// never needs more of the index than it shows (plus one batch).
//
// The rules, as S3 clients rely on them:
// - Keys are listed in UTF-8 byte order (the index's memcmp order), without the "bucket/" of
//   their native key, those that start with `prefix` only.
// - With a `delimiter`, every key that has the delimiter after the prefix is shown as one
//   common prefix: the key up to and including the first such delimiter. Keys and common
//   prefixes are the page's entries; `max-keys` (default and at most 1000) counts both.
// - A listing resumes after a position: V1's `marker`, V2's `continuation-token` (or, without
//   one, `start-after`). It lists the entries after that position; when the position is itself
//   a common prefix of this listing, every key under it is skipped too (a page that ended on a
//   common prefix must not show it again).
// - A truncated page names the position of its last entry: NextMarker (V1; always, with or
//   without a delimiter, since clients that get none would resume from the last Key and miss
//   common prefixes), or NextContinuationToken (V2): the last entry in base64url, opaque to the
//   client, and any byte string round-trips through it.
// - With `encoding-type=url`, the answer's key-like values are percent-encoded, see
//   listing_text().
#pragma once

#include "mkv/key.h"
#include "mkv/list_query.h"
#include "mkv/s3_error.h"
#include "mkv/s3_names.h"
#include "mkv/sigv4_canonical.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

// The most entries one page shows, and the number it shows when max-keys is not given.
inline constexpr std::size_t max_list_keys = 1000;
// The most keys asked of the index at once when a delimiter rolls keys up: a common prefix with
// many keys under it costs one such batch, not a page's worth, before the listing seeks past it.
inline constexpr std::size_t delimited_fetch_limit = 100;

enum class ListVersion { v1, v2 };

// A parsed ListObjects request. Fields echoed in the answer are kept as the client sent them.
struct ListObjectsRequest {
  ListVersion version = ListVersion::v1;
  std::string prefix;
  std::string delimiter;           // empty: no roll-up
  std::string marker;              // V1
  std::string start_after;         // V2
  std::string continuation_token;  // V2, as sent; empty when none was
  std::string after;               // the position the listing resumes after ("": the start)
  std::size_t max_keys = max_list_keys;
  bool url_encoding = false;  // encoding-type=url

  friend bool operator==(const ListObjectsRequest&, const ListObjectsRequest&) = default;
};

// One object as a listing shows it: key, size, ETag (quoted, as <ETag> carries it) and the
// time it was written (seconds since the epoch).
struct ListedObject {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;
  std::int64_t modified = 0;

  friend bool operator==(const ListedObject&, const ListedObject&) = default;
};

// One page of a listing. Keys and common prefixes are relative to the bucket.
struct ListObjectsPage {
  std::vector<ListedObject> contents;
  std::vector<std::string> common_prefixes;
  bool is_truncated = false;
  std::string next_marker;              // V1, set when truncated
  std::string next_continuation_token;  // V2, set when truncated

  // Returns KeyCount: the entries on the page, keys and common prefixes.
  [[nodiscard]] std::size_t key_count() const { return contents.size() + common_prefixes.size(); }
  friend bool operator==(const ListObjectsPage&, const ListObjectsPage&) = default;
};

// Returns up to limit objects whose native keys start with prefix and are >= from, in
// ascending byte order, with their native keys; fewer than limit only when there are no more.
using FetchObjects = std::function<S3Result<std::vector<ListedObject>>(
    std::string_view prefix, std::string_view from, std::size_t limit)>;

namespace detail {

inline constexpr std::string_view base64url_digits =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Returns whether text is UTF-8 without control characters (the rule of mkv keys).
[[nodiscard]] inline bool plain_text(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) return false;
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Returns the common prefix key (relative to the bucket) rolls up into, or nothing.
[[nodiscard]] inline std::optional<std::string_view> common_prefix_of(
    std::string_view key, const ListObjectsRequest& request) {
  if (request.delimiter.empty() || !key.starts_with(request.prefix)) return std::nullopt;
  const auto at = key.find(request.delimiter, request.prefix.size());
  if (at == std::string_view::npos) return std::nullopt;
  return key.substr(0, at + request.delimiter.size());
}

}  // namespace detail

// Returns the continuation token of a position: its bytes in base64url without padding.
[[nodiscard]] inline std::string encode_continuation_token(std::string_view position) {
  std::string token;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : position) {
    bits = (bits << 8 | static_cast<unsigned char>(c)) & 0xFFFF;
    count += 8;
    while (count >= 6) {
      count -= 6;
      token += detail::base64url_digits[(bits >> count) & 63];
    }
  }
  if (count > 0) token += detail::base64url_digits[(bits << (6 - count)) & 63];
  return token;
}

// Returns the position a continuation token encodes, or nullopt if token is not the exact
// output of encode_continuation_token() for any position.
[[nodiscard]] inline std::optional<std::string> decode_continuation_token(std::string_view token) {
  if (token.size() % 4 == 1) return std::nullopt;
  std::string position;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : token) {
    const auto digit = detail::base64url_digits.find(c);
    if (digit == std::string_view::npos) return std::nullopt;
    bits = (bits << 6 | static_cast<std::uint32_t>(digit)) & 0xFFFF;
    count += 6;
    if (count >= 8) {
      count -= 8;
      position += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  if ((bits & ((1u << count) - 1)) != 0) return std::nullopt;  // bits past the last byte
  return position;
}

// Returns the ListObjects request of decoded query parameters (parse_query()), or
// invalid_argument naming the parameter and what is wrong with it. Parameters ListObjects does
// not define are ignored, as S3 ignores them (V1 ignores V2's and the reverse).
[[nodiscard]] inline S3Result<ListObjectsRequest> parse_list_objects(
    std::span<const QueryParam> params) {
  static constexpr std::string_view known[] = {
      "continuation-token", "delimiter", "encoding-type", "list-type", "marker",
      "max-keys",           "prefix",    "start-after"};
  std::map<std::string_view, std::string_view> given;
  for (const auto& p : params) {
    if (std::find(std::begin(known), std::end(known), p.name) == std::end(known)) continue;
    if (!given.emplace(p.name, p.value).second) {
      return s3_error(s3errc::invalid_argument, "the parameter " + p.name + " is given twice");
    }
  }
  const auto refuse = [](std::string why) { return s3_error(s3errc::invalid_argument, why); };
  ListObjectsRequest request;
  if (const auto it = given.find("list-type"); it != given.end()) {
    if (it->second != "2") return refuse("list-type must be 2 (ListObjectsV2) when given");
    request.version = ListVersion::v2;
  }
  const bool v2 = request.version == ListVersion::v2;
  for (const auto& [name, value] : given) {
    const bool text = name == "prefix" || name == "delimiter" || (name == "marker" && !v2) ||
                      (name == "start-after" && v2);
    if (text && !detail::plain_text(value)) {
      return refuse(std::string(name) + " must be UTF-8 without control characters");
    }
    if (name == "prefix") request.prefix = value;
    if (name == "delimiter") request.delimiter = value;
    if (name == "marker" && !v2) request.marker = value;
    if (name == "start-after" && v2) request.start_after = value;
    if (name == "continuation-token" && v2) {
      const auto position = decode_continuation_token(value);
      if (value.empty() || !position) {
        return refuse("the continuation-token is not one this server issued");
      }
      request.continuation_token = value;
      request.after = *position;
    }
    if (name == "max-keys") {
      if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos) {
        return refuse("max-keys must be a whole number, 0 or more");
      }
      std::size_t keys = 0;
      for (const char c : value) keys = std::min(keys * 10 + std::size_t(c - '0'), max_list_keys);
      request.max_keys = keys;
    }
    if (name == "encoding-type") {
      if (value != "url") return refuse("encoding-type must be url when given");
      request.url_encoding = true;
    }
  }
  if (!v2) request.after = request.marker;
  if (v2 && request.continuation_token.empty()) request.after = request.start_after;
  return request;
}

// One page of a listing in the making, for a caller that reads the index itself (and may wait
// for it between reads): while next() names a read, the caller does it and hands the objects
// to take(); then finish() returns the page. list_objects() below drives it through a fetch.
class ObjectListing {
 public:
  // A read of the index: up to limit objects whose native keys start with prefix and are >=
  // from, in ascending byte order, with their native keys; fewer than limit only when there
  // are no more. (Views into the listing, valid until take().)
  struct Read {
    std::string_view prefix;
    std::string_view from;
    std::size_t limit = 0;
  };

  // Returns the listing of request in bucket, or invalid_bucket_name (bucket_key_prefix()).
  [[nodiscard]] static S3Result<ObjectListing> start(const ListObjectsRequest& request,
                                                     std::string_view bucket) {
    auto bucket_prefix = bucket_key_prefix(bucket);
    if (!bucket_prefix) return bucket_prefix.error();
    return ObjectListing(request, std::move(*bucket_prefix), bucket_marker_key(bucket));
  }

  // Returns the read the page needs next, or nothing when it is complete.
  [[nodiscard]] std::optional<Read> next() const {
    if (!from_) return std::nullopt;
    return Read{native_prefix_, *from_, limit()};
  }

  // Adds the objects of the read next() named to the page, or returns internal_error if they
  // break its contract (a key out of order or outside the prefix).
  S3Result<void> take(std::vector<ListedObject> batch) {
    if (!from_) return s3_error(s3errc::internal_error, "the listing read past its end");
    const std::size_t asked = limit();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::string& key = batch[i].key;
      if (key < *from_ || (i > 0 && key <= batch[i - 1].key) || !key.starts_with(native_prefix_)) {
        return s3_error(s3errc::internal_error, "the index listed keys out of order");
      }
    }
    const bool more = batch.size() >= asked;
    std::string after_batch = more ? batch.back().key + '\0' : std::string();
    for (auto& object : batch) {
      if (object.key == marker_) continue;  // the bucket's marker is not an object
      if (!skipping_.empty() && object.key.starts_with(skipping_)) continue;
      skipping_.clear();
      if (entries_ == request_.max_keys) {
        page_.is_truncated = true;
        break;
      }
      ++entries_;
      const std::string_view key = std::string_view(object.key).substr(bucket_prefix_.size());
      if (const auto common = detail::common_prefix_of(key, request_)) {
        last_ = *common;
        page_.common_prefixes.push_back(last_);
        skipping_ = bucket_prefix_ + last_;
      } else {
        object.key.erase(0, bucket_prefix_.size());
        last_ = object.key;
        page_.contents.push_back(std::move(object));
      }
    }
    if (page_.is_truncated || !more) {
      from_.reset();
    } else {
      from_ =
          skipping_.empty() ? std::optional(std::move(after_batch)) : prefix_successor(skipping_);
    }
    return {};
  }

  // Returns the page (once next() names no read).
  [[nodiscard]] ListObjectsPage finish() && {
    if (page_.is_truncated) {
      if (request_.version == ListVersion::v1) page_.next_marker = last_;
      if (request_.version == ListVersion::v2) {
        page_.next_continuation_token = encode_continuation_token(last_);
      }
    }
    return std::move(page_);
  }

 private:
  ObjectListing(const ListObjectsRequest& request, std::string bucket_prefix, std::string marker)
      : request_(request),
        bucket_prefix_(std::move(bucket_prefix)),
        native_prefix_(bucket_prefix_ + request.prefix),
        marker_(std::move(marker)) {
    if (request.max_keys == 0) return;
    // The first native key the index is asked for: the prefix, or the key after the position,
    // or past every key under the position when it is a common prefix of this listing.
    from_ = native_prefix_;
    if (!request.after.empty() && request.after >= request.prefix) {
      const std::string after = bucket_prefix_ + request.after;
      if (detail::common_prefix_of(request.after, request) == request.after) {
        from_ = prefix_successor(after);
      } else {
        from_ = after + '\0';
      }
    }
  }

  // The most objects the next read asks for.
  [[nodiscard]] std::size_t limit() const {
    const std::size_t wanted = request_.max_keys - entries_ + 1;
    return request_.delimiter.empty() ? wanted : std::min(wanted, delimited_fetch_limit);
  }

  ListObjectsRequest request_;
  std::string bucket_prefix_;
  std::string native_prefix_;
  std::string marker_;
  std::optional<std::string> from_;  // where the next read starts; nothing once complete
  ListObjectsPage page_;
  std::size_t entries_ = 0;
  std::string last_;      // the page's last entry
  std::string skipping_;  // the native common prefix whose keys are being passed over
};

// Returns the page of request in bucket, reading the index through fetch, or fetch's error, or
// invalid_bucket_name (bucket_key_prefix()), or internal_error if fetch breaks its contract
// (a key out of order or outside the prefix).
[[nodiscard]] inline S3Result<ListObjectsPage> list_objects(const ListObjectsRequest& request,
                                                            std::string_view bucket,
                                                            const FetchObjects& fetch) {
  auto listing = ObjectListing::start(request, bucket);
  if (!listing) return listing.error();
  while (const auto read = listing->next()) {
    auto batch = fetch(read->prefix, read->from, read->limit);
    if (!batch) return batch.error();
    if (auto taken = listing->take(std::move(*batch)); !taken) return taken.error();
  }
  return std::move(*listing).finish();
}

// Returns text as the answer carries it: unchanged, or with encoding-type=url percent-encoded
// as encode_key() does (every byte but A-Z a-z 0-9 - . _ ~ and '/' as %XX, so a space is %20
// and '+' is %2B). botocore decodes with unquote_plus and Go clients with QueryUnescape; both
// read this back exactly, where a '+' for a space would be misread by a plain unquote. The
// values to pass through it: Key and CommonPrefixes' Prefix, Delimiter, Prefix, and V1's
// Marker and NextMarker, V2's StartAfter (as S3 documents); never the continuation tokens,
// which are URL-safe already.
[[nodiscard]] inline std::string listing_text(const ListObjectsRequest& request,
                                              std::string_view text) {
  return request.url_encoding ? encode_key(text) : std::string(text);
}

}  // namespace mkv
