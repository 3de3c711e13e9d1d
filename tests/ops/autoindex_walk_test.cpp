// The walk over a volume: listing targets, child keys, and which entries become keys.
#include "mkv/autoindex.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using mkv::ListingEntry;
using mkv::ListingKind;
using mkv::Visit;

TEST_CASE("listing_target percent-encodes the directory below the volume's path") {
  struct Case {
    std::string_view volume;
    std::string_view dir_prefix;
    std::string_view target;
  };
  const Case cases[] = {
      {"http://v1:8080", "", "/"},
      {"http://v1:8080", "a/b/", "/a/b/"},
      {"http://v1:8080/data", "", "/data/"},
      {"http://v1:8080/data/", "a b/", "/data/a%20b/"},
      {"http://v1", "100%/\"q\"/", "/100%25/%22q%22/"},
      {"http://v1", "caf\xC3\xA9/", "/caf%C3%A9/"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.volume);
    CAPTURE(c.dir_prefix);
    const auto v = mkv::parse_volume_url(c.volume);
    REQUIRE(v.has_value());
    CHECK(mkv::listing_target(*v, c.dir_prefix) == c.target);
  }
}

TEST_CASE("child_key and child_dir_prefix append one segment") {
  struct Case {
    std::string_view dir_prefix;
    std::string_view name;
    std::string_view key;
    std::string_view prefix;
  };
  const Case cases[] = {
      {"", "a", "a", "a/"},
      {"a/", "b", "a/b", "a/b/"},
      {"a/b/", "c d", "a/b/c d", "a/b/c d/"},
      {"x/", "100%", "x/100%", "x/100%/"},
      {"", "caf\xC3\xA9", "caf\xC3\xA9", "caf\xC3\xA9/"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.dir_prefix);
    CAPTURE(c.name);
    CHECK(mkv::child_key(c.dir_prefix, c.name) == c.key);
    CHECK(mkv::child_dir_prefix(c.dir_prefix, c.name) == c.prefix);
  }
}

TEST_CASE("visit_entry decides what each listed entry is") {
  const std::string long_segment(255, 's');
  const std::string too_long_segment(256, 's');
  // A directory whose path is 1023 bytes: any key below it needs at least 1025.
  std::string deep_prefix;
  while (deep_prefix.size() + 200 < 1023) deep_prefix += std::string(199, 'd') + '/';
  const std::string last_dir(1023 - deep_prefix.size(), 'e');

  struct Case {
    std::string dir_prefix;
    std::string name;
    ListingKind kind;
    Visit visit;
    std::string path;
  };
  const Case cases[] = {
      {"", "a.txt", ListingKind::file, Visit::record, "a.txt"},
      {"a/b/", "c d", ListingKind::file, Visit::record, "a/b/c d"},
      {"", "caf\xC3\xA9", ListingKind::file, Visit::record, "caf\xC3\xA9"},
      {"x/", long_segment, ListingKind::file, Visit::record, "x/" + long_segment},
      {"", "a", ListingKind::directory, Visit::descend, "a/"},
      {"a/", "b c", ListingKind::directory, Visit::descend, "a/b c/"},
      {"", ".mkv", ListingKind::directory, Visit::skip_reserved, ".mkv/"},
      {"a/", ".mkv", ListingKind::directory, Visit::skip_invalid, "a/.mkv/"},
      {"a/", ".hidden", ListingKind::file, Visit::skip_invalid, "a/.hidden"},
      {"", ".mkv", ListingKind::file, Visit::skip_invalid, ".mkv"},
      {"", "sock", ListingKind::other, Visit::skip_other, "sock"},
      {"a/", "link", ListingKind::other, Visit::skip_other, "a/link"},
      {"", "tab\there", ListingKind::file, Visit::skip_invalid, "tab\there"},
      {"", "tab\there", ListingKind::directory, Visit::skip_invalid, "tab\there/"},
      {"", std::string("nul\0", 4), ListingKind::file, Visit::skip_invalid,
       std::string("nul\0", 4)},
      {"", "latin1 \xE9", ListingKind::file, Visit::skip_invalid, "latin1 \xE9"},
      {"", too_long_segment, ListingKind::file, Visit::skip_invalid, too_long_segment},
      {"", too_long_segment, ListingKind::directory, Visit::skip_invalid,
       too_long_segment + '/'},
      {deep_prefix, last_dir, ListingKind::directory, Visit::skip_invalid,
       deep_prefix + last_dir + '/'},
      {deep_prefix, last_dir, ListingKind::file, Visit::record, deep_prefix + last_dir},
      {deep_prefix, last_dir.substr(1), ListingKind::directory, Visit::descend,
       deep_prefix + last_dir.substr(1) + '/'},
  };
  for (const auto& c : cases) {
    CAPTURE(c.dir_prefix.size());
    CAPTURE(c.name);
    const auto d = mkv::visit_entry(c.dir_prefix, {c.name, c.kind, 1});
    CHECK(d.visit == c.visit);
    CHECK(d.path == c.path);
    CHECK(d.reason.empty() == (c.visit != Visit::skip_invalid));
  }
}

TEST_CASE("every recorded key passes key_problem and every descended prefix can hold one") {
  const std::string_view names[] = {"a", "a b", ".mkv", "..x", "x\x7F", "\xC3\xA9", "\xC3"};
  for (const std::string_view prefix : {"", "a/", "a/b/"}) {
    for (const auto name : names) {
      for (const auto kind : {ListingKind::file, ListingKind::directory}) {
        const auto d = mkv::visit_entry(prefix, {std::string(name), kind, 1});
        if (d.visit == Visit::record) CHECK_FALSE(mkv::key_problem(d.path));
        if (d.visit == Visit::descend) CHECK_FALSE(mkv::key_problem(d.path + "k"));
      }
    }
  }
}
