// Rebuild's streamed walk: the order in which each volume is walked so that its files come out
// in key (memcmp) order, the k-way merge of the volumes' streams that makes every copy of a key
// meet at once, and the checksum a rebuilt record keeps from the old index. With these, rebuild
// holds a few directory listings per volume instead of every key (rebuild.h decides records).
//
// Why sorting a listing by path is enough: a file's path is its key ("a/b"), a directory's path
// is the prefix of every key below it ("a/c/", with the '/'). Two names of one directory differ
// before either ends ('/' is in neither name, and a name is not listed twice), so the byte that
// orders two paths also orders every key below them: a depth-first walk that takes each
// directory's items in path order yields the volume's keys in ascending memcmp order.
#pragma once

#include "mkv/record.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// One item of a listed directory that the walk keeps: a file whose path is a key, or a
// directory whose path is the key prefix ("a/b/") of the keys below it.
struct WalkItem {
  std::string path;
  bool directory = false;
  std::uint64_t size = 0;  // files only
  std::int64_t mtime = 0;  // files only: seconds since the epoch (0: unknown)

  friend bool operator==(const WalkItem&, const WalkItem&) = default;
};

// Returns items in walk order: ascending by path bytes (unsigned, as the index compares keys).
[[nodiscard]] inline std::vector<WalkItem> in_walk_order(std::vector<WalkItem> items) {
  std::sort(items.begin(), items.end(),
            [](const WalkItem& a, const WalkItem& b) { return a.path < b.path; });
  return items;
}

// Returns the positions of the streams whose head is the smallest key, in position order; empty
// when every stream has ended (nullopt). Each stream must be in ascending key order, so the
// positions returned hold every copy of that key that is left to see.
[[nodiscard]] inline std::vector<std::size_t> lowest_heads(
    std::span<const std::optional<std::string_view>> heads) {
  std::vector<std::size_t> lowest;
  std::optional<std::string_view> least;
  for (std::size_t i = 0; i < heads.size(); ++i) {
    if (!heads[i]) continue;
    if (!least || *heads[i] < *least) {
      least = heads[i];
      lowest.clear();
    }
    if (*heads[i] == *least) lowest.push_back(i);
  }
  return lowest;
}

// Returns the rebuilt record with what only the old index knows (its MD5, write time and S3
// metadata) when the old record is of the same size and has a checksum; nullopt otherwise (the
// value may have changed, or there is nothing to keep).
[[nodiscard]] inline std::optional<Record> with_old_checksum(Record rebuilt, const Record& old) {
  if (old.size != rebuilt.size || !old.md5) return std::nullopt;
  rebuilt.md5 = old.md5;
  rebuilt.modified = old.modified;
  rebuilt.meta = old.meta;  // an S3 object's Content-Type and x-amz-meta-*
  return rebuilt;
}

// Returns the position of the first entry at or after from whose key is >= key, in a page of
// the old index (ascending, as scan() returns it); page.size() when there is none. The rebuilt
// keys ascend too, so the old index is read once, in step with them, a page at a time.
[[nodiscard]] inline std::size_t seek_page(std::span<const Entry> page, std::size_t from,
                                           std::string_view key) {
  from = std::min(from, page.size());
  const auto it =
      std::lower_bound(page.begin() + static_cast<std::ptrdiff_t>(from), page.end(), key,
                       [](const Entry& e, std::string_view k) { return e.key < k; });
  return static_cast<std::size_t>(it - page.begin());
}

}  // namespace mkv
