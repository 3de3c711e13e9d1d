// Reading volumes for rebuild: parsing one nginx JSON directory listing and deciding, entry by
// entry, which files are keys and which directories to walk into.
//
// A volume is walked from its root ("" below): list the directory, then for every entry ask
// visit_entry() whether it is a key to record, a directory to list next, or something to skip.
//
// Stock nginx never lists names that start with '.' (its autoindex hides them), so a key with
// any segment starting with '.' (".env", "a/.b") is invisible to a walk and cannot be rebuilt.
// The one such key mkv writes under a key's directory, an S3 bucket's marker
// "<bucket>/.mkv-bucket" (s3_names.h), is asked for by name instead: marker_probe() names it for
// every top-level directory the walk descends into (nginx serves a dot file; it only hides it
// from listings). The reserved top-level ".mkv" is never listed by nginx either; it is still
// skipped here in case a volume server does list it.
#pragma once

#include "mkv/conditions.h"
#include "mkv/error.h"
#include "mkv/key.h"
#include "mkv/s3_names.h"
#include "mkv/volume.h"

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

// What a listed name is on the volume's disk.
enum class ListingKind {
  file,       // a regular file: possibly a key's blob
  directory,  // a directory: list it to find the keys below
  other,      // anything else (a socket, a device, a type this code does not know)
};

// One entry of a directory listing. size is the file's length in bytes and mtime its last
// change (seconds since the epoch), both 0 for non-files.
struct ListingEntry {
  std::string name;
  ListingKind kind = ListingKind::other;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;

  friend bool operator==(const ListingEntry&, const ListingEntry&) = default;
};

// Returns the entries of an nginx `autoindex_format json` listing, in listed order, or
// malformed_listing("autoindex: ...") if text is not a JSON array of objects each with a string
// "name" that is a single path segment (not empty, ".", ".." and without '/'), a string
// "type", and, for type "file", a non-negative integer "size". Names are the bytes nginx read
// from disk after JSON unescaping and need not be valid UTF-8; an unknown type reads as other;
// a file's "mtime" is read when it is an HTTP date (0 otherwise); any other member is ignored.
[[nodiscard]] inline Result<std::vector<ListingEntry>> parse_autoindex(std::string_view text) {
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;  // nginx lists file names as raw bytes
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec, {}, options);
  if (ec) return Error::malformed_listing("autoindex: not JSON: " + ec.message());
  if (!value.is_array()) return Error::malformed_listing("autoindex: not a JSON array");

  std::vector<ListingEntry> entries;
  entries.reserve(value.get_array().size());
  std::size_t position = 0;
  for (const auto& item : value.get_array()) {
    const auto fail = [&](std::string why) {
      return Error::malformed_listing("autoindex: entry " + std::to_string(position) + ": " + why);
    };
    if (!item.is_object()) return fail("not an object");
    const boost::json::object& object = item.get_object();

    const auto* name = object.if_contains("name");
    if (name == nullptr || !name->is_string()) return fail("no string \"name\"");
    ListingEntry entry;
    entry.name = std::string(name->get_string());
    if (entry.name.empty() || entry.name == "." || entry.name == ".." ||
        entry.name.find('/') != std::string::npos) {
      return fail("name is not a single path segment");
    }

    const auto* type = object.if_contains("type");
    if (type == nullptr || !type->is_string()) return fail("no string \"type\"");
    if (type->get_string() == "file") {
      entry.kind = ListingKind::file;
    } else if (type->get_string() == "directory") {
      entry.kind = ListingKind::directory;
    } else {
      entry.kind = ListingKind::other;
    }

    if (entry.kind == ListingKind::file) {
      const auto* size = object.if_contains("size");
      if (size == nullptr) return fail("file without \"size\"");
      if (size->is_uint64()) {
        entry.size = size->get_uint64();
      } else if (size->is_int64() && size->get_int64() >= 0) {
        entry.size = static_cast<std::uint64_t>(size->get_int64());
      } else {
        return fail("\"size\" is not a non-negative integer");
      }
      const auto* mtime = object.if_contains("mtime");
      if (mtime != nullptr && mtime->is_string()) {
        entry.mtime = parse_http_date(mtime->get_string()).value_or(0);
      }
    }
    entries.push_back(std::move(entry));
    ++position;
  }
  return entries;
}

// Returns the request target that lists the directory whose key prefix is dir_prefix ("" for
// the volume's root, else "a/b/") on volume v: "/prefix/a/b/", percent-encoded like a key.
[[nodiscard]] inline std::string listing_target(const Volume& v, std::string_view dir_prefix) {
  return v.path + '/' + encode_key(dir_prefix);
}

// Returns the key of the file called name in the directory whose key prefix is dir_prefix.
[[nodiscard]] inline std::string child_key(std::string_view dir_prefix, std::string_view name) {
  std::string key(dir_prefix);
  key += name;
  return key;
}

// Returns the key prefix of the subdirectory called name in the directory whose key prefix is
// dir_prefix: the prefix every key below it starts with ("a/b/" for "b" in "a/").
[[nodiscard]] inline std::string child_dir_prefix(std::string_view dir_prefix,
                                                  std::string_view name) {
  std::string prefix(dir_prefix);
  prefix += name;
  prefix.push_back('/');
  return prefix;
}

// What the walk does with one listed entry.
enum class Visit {
  record,         // a file whose name makes a valid key: path is the key
  descend,        // a directory that can hold valid keys: path is its key prefix, list it next
  skip_reserved,  // the reserved top-level ".mkv" directory (staged overwrites): not keys
  skip_invalid,   // the name cannot be (or lead to) a valid key: reason says why
  skip_other,     // neither a file nor a directory
};

// The decision for one entry; path is the key or key prefix the entry stands for, and reason
// is set for skip_invalid.
struct VisitDecision {
  Visit visit = Visit::skip_other;
  std::string path;
  std::string reason;

  friend bool operator==(const VisitDecision&, const VisitDecision&) = default;
};

// Returns what the walk does with entry found in the directory whose key prefix is
// dir_prefix: files whose key passes key_problem() are recorded; directories are descended
// into when their own path would be a valid key and leaves room for a child (keys below are at
// least two bytes longer), except the top-level ".mkv"; everything else is skipped.
[[nodiscard]] inline VisitDecision visit_entry(std::string_view dir_prefix,
                                               const ListingEntry& entry) {
  VisitDecision d;
  switch (entry.kind) {
    case ListingKind::other:
      d.visit = Visit::skip_other;
      d.path = child_key(dir_prefix, entry.name);
      return d;
    case ListingKind::file:
      d.path = child_key(dir_prefix, entry.name);
      if (auto problem = key_problem(d.path)) {
        d.visit = Visit::skip_invalid;
        d.reason = std::move(*problem);
      } else {
        d.visit = Visit::record;
      }
      return d;
    case ListingKind::directory: {
      const std::string as_key = child_key(dir_prefix, entry.name);
      d.path = child_dir_prefix(dir_prefix, entry.name);
      if (dir_prefix.empty() && entry.name == reserved_segment) {
        d.visit = Visit::skip_reserved;
      } else if (auto problem = key_problem(as_key)) {
        d.visit = Visit::skip_invalid;
        d.reason = std::move(*problem);
      } else if (as_key.size() + 2 > max_key_bytes) {
        d.visit = Visit::skip_invalid;
        d.reason = "every key below is longer than " + std::to_string(max_key_bytes) + " bytes";
      } else {
        d.visit = Visit::descend;
      }
      return d;
    }
  }
  return d;  // unreachable: every kind is handled above
}

// Returns the key to ask the volume for by name after the walk decided d for an entry of the
// directory whose key prefix is dir_prefix: the bucket marker "<name>/.mkv-bucket" of a
// top-level directory the walk descends into (any first segment may be a bucket), which no
// listing shows; nullopt for every other entry.
[[nodiscard]] inline std::optional<std::string> marker_probe(std::string_view dir_prefix,
                                                             const VisitDecision& d) {
  if (!dir_prefix.empty() || d.visit != Visit::descend || d.path.size() < 2) return std::nullopt;
  return bucket_marker_key(std::string_view(d.path).substr(0, d.path.size() - 1));
}

}  // namespace mkv
