// Rebuild's streamed walk: listings sorted into walk order make a depth-first walk yield keys in
// memcmp order, the k-way merge meets every copy of a key at once, and the old index's checksums
// are carried over in step with the keys.
#include "mkv/rebuild_walk.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using mkv::WalkItem;

namespace {

WalkItem walk_file(std::string path, std::uint64_t size = 1) {
  return {std::move(path), false, size};
}
WalkItem walk_dir(std::string path) {
  return {std::move(path), true};
}

std::vector<std::string> walk_paths(const std::vector<WalkItem>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.path);
  return out;
}

// Walks a tree given as each directory's items (unsorted), depth-first in walk order, as
// rebuild's walk of a volume does; returns the files' keys in the order met.
void walk_tree(const std::map<std::string, std::vector<WalkItem>>& tree, const std::string& prefix,
               std::vector<std::string>& keys) {
  for (const auto& item : mkv::in_walk_order(tree.at(prefix))) {
    if (item.directory) {
      walk_tree(tree, item.path, keys);
    } else {
      keys.push_back(item.path);
    }
  }
}

}  // namespace

TEST_CASE("in_walk_order sorts a listing by path bytes, a directory as its name and '/'") {
  struct Case {
    std::vector<WalkItem> listed;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {{}, {}},
      {{walk_file("b"), walk_file("a")}, {"a", "b"}},
      // '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f), '0' (0x30) after it.
      {{walk_file("a0"), walk_dir("a/"), walk_file("a.b"), walk_file("a-b")},
       {"a-b", "a.b", "a/", "a0"}},
      // Unsigned bytes: UTF-8 after ASCII, upper case before lower.
      {{walk_file("\xC3\xA9"), walk_file("z"), walk_file("Z")}, {"Z", "z", "\xC3\xA9"}},
      {{walk_dir("p/q/"), walk_file("p/.mkv-bucket"), walk_file("p/-x"), walk_file("p/a")},
       {"p/-x", "p/.mkv-bucket", "p/a", "p/q/"}},
  };
  for (const auto& c : cases) CHECK(walk_paths(mkv::in_walk_order(c.listed)) == c.expected);
}

TEST_CASE("a depth-first walk of sorted listings yields every key in memcmp order") {
  // Names chosen so that a directory and a file of the same stem straddle '/'.
  const std::map<std::string, std::vector<WalkItem>> tree = {
      {"",
       {walk_dir("a/"), walk_file("a-"), walk_file("a0"), walk_dir("a.b/"), walk_file("A"),
        walk_dir("\xC3\xA9/")}},
      {"a/",
       {walk_file("a/z"), walk_dir("a/b/"), walk_file("a/b-"), walk_file("a/.mkv-bucket"),
        walk_file("a/-")}},
      {"a/b/", {walk_file("a/b/c"), walk_file("a/b/C")}},
      {"a.b/", {walk_file("a.b/x")}},
      {"\xC3\xA9/", {}},
  };
  std::vector<std::string> keys;
  walk_tree(tree, "", keys);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  CHECK(keys == sorted);
  CHECK(keys.size() == 10);
}

TEST_CASE("lowest_heads names every stream whose head is the smallest key") {
  using Heads = std::vector<std::optional<std::string_view>>;
  struct Case {
    Heads heads;
    std::vector<std::size_t> expected;
  };
  const std::vector<Case> cases = {
      {{}, {}},
      {{std::nullopt, std::nullopt}, {}},
      {{"a"}, {0}},
      {{"b", "a", "c"}, {1}},
      {{"a", "b", "a"}, {0, 2}},
      {{std::nullopt, "k", "k"}, {1, 2}},
      {{"k/", "k-", std::nullopt}, {1}},
      {{"\xC3\xA9", "z"}, {1}},
  };
  for (const auto& c : cases) CHECK(mkv::lowest_heads(c.heads) == c.expected);
}

TEST_CASE("merging sorted streams by lowest_heads meets each key's copies together") {
  const std::vector<std::vector<std::string>> streams = {
      {"a", "b/1", "c"}, {"b/1", "b/2"}, {"a", "b/2", "c", "d"}};
  std::vector<std::size_t> at(streams.size(), 0);
  std::map<std::string, std::vector<std::size_t>> met;
  std::vector<std::string> order;
  for (;;) {
    std::vector<std::optional<std::string_view>> heads;
    for (std::size_t i = 0; i < streams.size(); ++i) {
      heads.push_back(at[i] < streams[i].size() ? std::optional<std::string_view>(streams[i][at[i]])
                                                : std::nullopt);
    }
    const auto lowest = mkv::lowest_heads(heads);
    if (lowest.empty()) break;
    const std::string key = streams[lowest.front()][at[lowest.front()]];
    CHECK(!met.contains(key));  // met once, with every copy
    order.push_back(key);
    for (auto i : lowest) {
      met[key].push_back(i);
      at[i] += 1;
    }
  }
  CHECK(order == std::vector<std::string>{"a", "b/1", "b/2", "c", "d"});
  const std::map<std::string, std::vector<std::size_t>> expected = {
      {"a", {0, 2}}, {"b/1", {0, 1}}, {"b/2", {1, 2}}, {"c", {0, 2}}, {"d", {2}}};
  CHECK(met == expected);
}

TEST_CASE("with_old_checksum keeps the old MD5, time and metadata only for the same size") {
  const mkv::Md5 md5{1};
  mkv::Record rebuilt{{"http://v1"}, 10};
  rebuilt.modified = 500;
  mkv::Record old{{"http://v2"}, 10};
  old.md5 = md5;
  old.modified = 400;
  old.meta = "content-type: text/plain";

  const auto kept = mkv::with_old_checksum(rebuilt, old);
  REQUIRE(kept);
  CHECK(kept->volumes == rebuilt.volumes);  // where the copies are is what the walk found
  CHECK(kept->size == 10);
  CHECK(kept->md5 == md5);
  CHECK(kept->modified == 400);
  CHECK(kept->meta == old.meta);

  mkv::Record resized = old;
  resized.size = 11;
  CHECK(!mkv::with_old_checksum(rebuilt, resized));
  mkv::Record unknown = old;
  unknown.md5.reset();
  CHECK(!mkv::with_old_checksum(rebuilt, unknown));
}

TEST_CASE("seek_page finds the first old entry at or after a key, from a position on") {
  const std::vector<mkv::Entry> page = {
      {"a", mkv::Record{}}, {"b/1", mkv::Record{}}, {"b/3", mkv::Record{}}, {"d", mkv::Record{}}};
  struct Case {
    std::size_t from;
    std::string key;
    std::size_t expected;
  };
  const std::vector<Case> cases = {
      {0, "", 0},  {0, "a", 0}, {0, "a0", 1}, {0, "b/1", 1}, {1, "b/2", 2}, {2, "b/3", 2},
      {3, "c", 3}, {0, "e", 4}, {4, "e", 4},  {9, "a", 4},   {2, "a", 2},  // never goes back: keys
                                                                           // ascend
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CHECK(mkv::seek_page(page, c.from, c.key) == c.expected);
  }
}
