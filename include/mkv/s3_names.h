// S3 names: which bucket names and object keys mkv accepts, and how a bucket and a key map to a
// native mkv key and back. The S3 object `key` in bucket `b` is the native key `b/key`, so a
// blob written through S3 is read with a native `GET /b/key` and the other way round.
//
// The rules, in plain words (the README's S3 section repeats them):
//
// - A new bucket's name (CreateBucket) follows S3's rules: 3 to 63 characters of lower-case
//   letters, digits, '.' and '-'; it starts and ends with a letter or a digit; it has no ".."
//   and is not four groups of digits separated by dots (it must not look like an IP address).
//   Starting with a letter or a digit also keeps it from starting with '.', so no bucket can
//   reach `.mkv`, the area mkv keeps for itself on each volume.
// - An existing bucket is the first segment of native keys, which may break S3's rules (a
//   native key `Photos/cat.jpg` makes a bucket `Photos`). Such a bucket is still served, as
//   AWS still serves its old upper-case buckets: any name that is one segment of a native key
//   (no '/', not starting with '.', UTF-8 without control characters, at most 255 bytes).
// - An object key is stored as a file path on the volumes, so it must be one:
//   - not empty, not ending in '/', no "//" in it, not starting with '/';
//   - no segment (the text between two '/') is "." or "..", or starts with '.';
//   - UTF-8 without control characters;
//   - the bucket, a '/' and the key together are at most 1024 bytes (so a key in bucket `b` has
//     at most 1022 bytes), and each segment at most 255 bytes: over these, KeyTooLongError;
//     otherwise InvalidArgument, with a message naming the rule.
//   S3 folder markers (`photos/` with an empty body, as some consoles make) are refused by the
//   second rule.
// - A key and a key under it (`a` and `a/b`) cannot both exist: `a` would have to be a file and
//   a directory at once. The index refuses the second write with mkv's key_conflict; the S3
//   layer answers it with InvalidArgument (400), made by key_conflict_error() below. There is
//   no S3 code for it; a 409 would be misleading, as S3's 409 codes all name bucket states.
#pragma once

#include "mkv/key.h"
#include "mkv/s3_error.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mkv {

// The native key that remembers a bucket CreateBucket made, so that it exists while it holds
// no object: an empty blob named by a dot-segment, which no S3 key can have (so it never
// collides with an object), and which ListObjects skips. DeleteBucket removes it.
inline constexpr std::string_view bucket_marker_name = ".mkv-bucket";

// Returns the native key of bucket's marker.
[[nodiscard]] inline std::string bucket_marker_key(std::string_view bucket) {
  return std::string(bucket) + "/" + std::string(bucket_marker_name);
}

inline constexpr std::size_t min_bucket_name_bytes = 3;
inline constexpr std::size_t max_bucket_name_bytes = 63;

// A bucket and an object key in it, as S3 names them.
struct BucketKey {
  std::string bucket;
  std::string key;

  friend bool operator==(const BucketKey&, const BucketKey&) = default;
};

namespace detail {

[[nodiscard]] inline bool bucket_letter_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Returns whether name is four groups of digits separated by dots ("192.168.5.4").
[[nodiscard]] inline bool looks_like_ip_address(std::string_view name) {
  std::size_t groups = 0;
  while (true) {
    const auto dot = name.find('.');
    const auto group = name.substr(0, dot);
    if (group.empty() || group.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    ++groups;
    if (dot == std::string_view::npos) return groups == 4;
    name.remove_prefix(dot + 1);
  }
}

}  // namespace detail

// Returns why name cannot be the name of a new bucket, or nullopt if it can (the rules above).
[[nodiscard]] inline std::optional<std::string> bucket_name_problem(std::string_view name) {
  if (name.size() < min_bucket_name_bytes || name.size() > max_bucket_name_bytes) {
    return "a bucket name must be " + std::to_string(min_bucket_name_bytes) + " to " +
           std::to_string(max_bucket_name_bytes) + " characters long";
  }
  for (const char c : name) {
    if (!detail::bucket_letter_or_digit(c) && c != '.' && c != '-') {
      return "a bucket name may contain only lower-case letters, digits, '.' and '-'";
    }
  }
  if (!detail::bucket_letter_or_digit(name.front()) ||
      !detail::bucket_letter_or_digit(name.back())) {
    return "a bucket name must start and end with a lower-case letter or a digit";
  }
  if (name.find("..") != std::string_view::npos) return "a bucket name must not contain \"..\"";
  if (detail::looks_like_ip_address(name)) {
    return "a bucket name must not be formatted as an IP address";
  }
  return std::nullopt;
}

// Returns nothing if name can be the name of a new bucket, else invalid_bucket_name saying
// which rule it breaks.
[[nodiscard]] inline S3Result<void> check_bucket_name(std::string_view name) {
  if (auto problem = bucket_name_problem(name)) {
    return s3_error(s3errc::invalid_bucket_name, std::move(*problem));
  }
  return {};
}

// Returns "bucket/", the prefix of the native keys of the objects in bucket, or
// invalid_bucket_name if bucket cannot be the first segment of a native key (the rule for
// existing buckets above).
[[nodiscard]] inline S3Result<std::string> bucket_key_prefix(std::string_view bucket) {
  if (bucket.empty()) return s3_error(s3errc::invalid_bucket_name, "the bucket name is empty");
  if (bucket.find('/') != std::string_view::npos) {
    return s3_error(s3errc::invalid_bucket_name, "a bucket name cannot contain '/'");
  }
  if (auto problem = key_problem(bucket)) {
    return s3_error(s3errc::invalid_bucket_name,
                    "the bucket name cannot be a segment of an mkv key: " + std::move(*problem));
  }
  return std::string(bucket) + '/';
}

// Returns the native key "bucket/key" of an S3 object, or the error that refuses it:
// invalid_bucket_name (see bucket_key_prefix()), key_too_long for the length limits, or
// invalid_argument naming the rule the key breaks.
[[nodiscard]] inline S3Result<std::string> native_key(std::string_view bucket,
                                                      std::string_view key) {
  auto prefix = bucket_key_prefix(bucket);
  if (!prefix) return prefix.error();
  if (key.empty()) return s3_error(s3errc::invalid_argument, "the key is empty");
  if (prefix->size() + key.size() > max_key_bytes) {
    return s3_error(s3errc::key_too_long,
                    "the key is " + std::to_string(key.size()) + " bytes; in bucket '" +
                        std::string(bucket) + "' a key may have at most " +
                        std::to_string(max_key_bytes - prefix->size()) + " (mkv allows " +
                        std::to_string(max_key_bytes) + " bytes for bucket, '/' and key)");
  }
  for (std::size_t begin = 0; begin <= key.size();) {
    const auto slash = std::min(key.find('/', begin), key.size());
    if (slash - begin > max_segment_bytes) {
      return s3_error(s3errc::key_too_long, "a '/'-separated segment of the key is longer than " +
                                                std::to_string(max_segment_bytes) + " bytes");
    }
    begin = slash + 1;
  }
  std::string native = std::move(*prefix);
  native += key;
  if (auto problem = key_problem(native)) {
    return s3_error(s3errc::invalid_argument,
                    "mkv cannot store the key as a file path: " + std::move(*problem));
  }
  return native;
}

// Returns the bucket and key a path-style request path names ("/bucket/key", the target up to
// '?'), each percent-decoded on its own: "/" names neither, "/b" and "/b/" the bucket b alone.
// Neither is checked (check_bucket_name(), native_key() do that); invalid_request if the path
// does not start with '/' or has a malformed %-escape, invalid_bucket_name if it names a key
// with an empty bucket ("//key").
[[nodiscard]] inline S3Result<BucketKey> split_path_style(std::string_view path) {
  if (!path.starts_with('/')) {
    return s3_error(s3errc::invalid_request, "the request path does not start with '/'");
  }
  path.remove_prefix(1);
  const auto slash = path.find('/');
  auto bucket = percent_decode(path.substr(0, slash));
  auto key =
      percent_decode(slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1));
  if (!bucket || !key) {
    return s3_error(s3errc::invalid_request, "the request path has a malformed %-escape");
  }
  if (bucket->empty() && slash != std::string_view::npos) {
    return s3_error(s3errc::invalid_bucket_name, "the request path has an empty bucket name");
  }
  return BucketKey{std::move(*bucket), std::move(*key)};
}

// Returns the bucket and key a CopyObject's x-amz-copy-source names: "bucket/key" or
// "/bucket/key", percent-encoded, optionally with "?versionId=null" (mkv keeps one version of
// each object, so that is the only version it has); invalid_argument naming the problem for
// anything else.
[[nodiscard]] inline S3Result<BucketKey> parse_copy_source(std::string_view header) {
  const auto refuse = [](std::string why) {
    return s3_error(s3errc::invalid_argument, "x-amz-copy-source " + std::move(why));
  };
  if (const auto query = header.find('?'); query != std::string_view::npos) {
    if (header.substr(query + 1) != "versionId=null") {
      return refuse("names a version; mkv keeps one version of each object (versionId=null)");
    }
    header = header.substr(0, query);
  }
  if (header.starts_with('/')) header.remove_prefix(1);
  const auto slash = header.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == header.size()) {
    return refuse("must name a bucket and a key: bucket/key");
  }
  auto bucket = percent_decode(header.substr(0, slash));
  auto key = percent_decode(header.substr(slash + 1));
  if (!bucket || !key) return refuse("has a malformed %-escape");
  return BucketKey{std::move(*bucket), std::move(*key)};
}

// Returns the bucket and key of a native key ("b/k/l" is key "k/l" in bucket "b"), or nullopt
// for a native key with no '/', which is in no bucket and so not visible through S3.
[[nodiscard]] inline std::optional<BucketKey> split_native_key(std::string_view native) {
  const auto slash = native.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return BucketKey{std::string(native.substr(0, slash)), std::string(native.substr(slash + 1))};
}

// Returns the error for a write of key that the index refused with key_conflict: InvalidArgument
// (400), saying that a key and a key under it cannot both exist.
[[nodiscard]] inline S3Error key_conflict_error(std::string_view key) {
  return s3_error(s3errc::invalid_argument,
                  "the key '" + std::string(key) +
                      "' collides with an existing key: mkv stores keys as file paths, so a key "
                      "and a key under it ('a' and 'a/b') cannot both exist");
}

}  // namespace mkv
