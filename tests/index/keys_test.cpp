// Index conformance: unusual keys, memcmp ordering, prefix listing with start and limit, long
// keys sharing long prefixes, and a randomized comparison against an ordered map.
#include "index_under_test.h"

#include <algorithm>
#include <map>
#include <random>

using mkv::Record;
using mkv::Write;

namespace {

// Returns keys sorted as the index must order them: unsigned bytes (memcmp).
std::vector<std::string> byte_sorted(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());  // std::string compares chars as unsigned
  return keys;
}

std::vector<std::string> keys_of(const std::vector<mkv::Entry>& entries) {
  std::vector<std::string> keys;
  for (const auto& e : entries) keys.push_back(e.key);
  return keys;
}

// Returns the segments joined with '/'.
std::string path_of(const std::vector<std::string>& segments) {
  std::string path;
  for (const auto& s : segments) path += (path.empty() ? "" : "/") + s;
  return path;
}

}  // namespace

TEST_CASE("std::string orders bytes as unsigned, like memcmp") {
  // The tests below rely on this to build expected orders.
  CHECK(std::string("a") < std::string("\x80"));
  CHECK(std::string("z") < std::string("\xff"));
}

TEST_CASE("unusual keys store, read back and list") {
  const std::string cases[] = {
      "plain",
      "with space",
      "with%20percent%",
      "quote\"double",
      "quote'single",
      "back\\slash",
      "semi;colon,comma=eq&amp?q#hash",
      "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xf0\x9f\x98\x80",
      "high\x80\xfe\xff",
      "+plus+",
      "*",
      "~tilde",
      std::string(1024, 'x'),
      std::string(1024, '\xff'),
      path_of({std::string(255, 'a'), std::string(255, 'b'), std::string(255, 'c'),
               std::string(255, 'd')}),
      path_of({std::string(255, 'a'), std::string(255, 'b'), std::string(255, 'c'),
               std::string(254, 'e')}),
  };
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  std::vector<Write> batch;
  std::vector<std::string> all;
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    batch.push_back(put(cases[i], record(i)));
    all.push_back(cases[i]);
  }
  apply_ok(index, batch);
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    CAPTURE(cases[i].size());
    CHECK(get_ok(index, cases[i]) == record(i));
    CHECK(list_ok(index, cases[i], "", 10).front() == cases[i]);
  }
  CHECK(list_ok(index, "", "", 100) == byte_sorted(all));
  CHECK(keys_of(scan_ok(index, "", 100)) == byte_sorted(all));
}

TEST_CASE("keys list in memcmp byte order; bytes >= 0x80 sort after ASCII") {
  const std::vector<std::string> keys = {
      "b",      "a",        "a/b",       "a b",      "ab",     "a\x7f", "a\x80",
      "a\xff",  "A",        "a\xc3\xa9", "\xe2\x82\xac", "~",  "a/",    "a0",
      "a/b/c",  "a/b c",    "a/\xff",    "Z",         "\x01",  "aa",    "a\x01",
  };
  const std::vector<std::string> expected = {
      "\x01",  "A",     "Z",     "a",      "a\x01",  "a b",       "a/",           "a/b",
      "a/b c", "a/b/c", "a/\xff", "a0",    "aa",     "ab",        "a\x7f",        "a\x80",
      "a\xc3\xa9", "a\xff", "b", "~",      "\xe2\x82\xac",
  };
  REQUIRE(byte_sorted(keys) == expected);

  ScratchDir dir;
  auto index = open_index(dir.index_path());
  std::vector<Write> batch;
  for (const auto& k : keys) batch.push_back(put(k, record(k.size())));
  apply_ok(index, batch);
  CHECK(list_ok(index, "", "", 100) == expected);
  CHECK(keys_of(scan_ok(index, "", 100)) == expected);
}

TEST_CASE("list by prefix, start and limit") {
  const std::vector<std::string> keys = {
      "a",     "a/",     "a/1",   "a/2",   "a/3",   "a/3/x", "a/\x80", "a/\xff",
      "a/\xff\xff", "a0", "b",    "b/1",   "\xff",  "\xff\xff", "\xff\xff\x01",
  };
  struct Case {
    std::string prefix, start;
    std::size_t limit;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {"", "", 100, keys},
      {"", "", 3, {"a", "a/", "a/1"}},
      {"", "", 0, {}},
      {"a/", "", 100, {"a/", "a/1", "a/2", "a/3", "a/3/x", "a/\x80", "a/\xff", "a/\xff\xff"}},
      {"a/", "", 2, {"a/", "a/1"}},
      {"a/", "a/2", 100, {"a/2", "a/3", "a/3/x", "a/\x80", "a/\xff", "a/\xff\xff"}},
      {"a/", "a/2", 2, {"a/2", "a/3"}},
      {"a/", "a/20", 2, {"a/3", "a/3/x"}},           // start between keys
      {"a/", "a", 2, {"a/", "a/1"}},                   // start below the prefix
      {"a/", "b", 100, {}},                            // start above every match
      {"a/3", "", 100, {"a/3", "a/3/x"}},
      {"a/\xff", "", 100, {"a/\xff", "a/\xff\xff"}},  // successor of the prefix carries
      {"\xff", "", 100, {"\xff", "\xff\xff", "\xff\xff\x01"}},  // no successor at all
      {"\xff\xff", "", 100, {"\xff\xff", "\xff\xff\x01"}},
      {"\xff\xff", "\xff\xff\x01", 100, {"\xff\xff\x01"}},
      {"b", "", 100, {"b", "b/1"}},
      {"c", "", 100, {}},
      {"a/4", "", 100, {}},
      {"", "a0", 3, {"a0", "b", "b/1"}},
      {"", "\xff\xff", 100, {"\xff\xff", "\xff\xff\x01"}},
  };
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  std::vector<Write> batch;
  for (const auto& k : keys) batch.push_back(put(k, record(1)));
  apply_ok(index, batch);
  REQUIRE(byte_sorted(keys) == keys);
  for (const auto& c : cases) {
    CAPTURE(c.prefix);
    CAPTURE(c.start);
    CAPTURE(c.limit);
    CHECK(list_ok(index, c.prefix, c.start, c.limit) == c.expected);
  }
}

TEST_CASE("scan from start with limit") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  apply_ok(index, {put("a", record(1)), put("b", record(2)), put("c", record(3)),
                   put("\xc3\xa9", record(4))});
  CHECK(keys_of(scan_ok(index, "", 2)) == std::vector<std::string>{"a", "b"});
  CHECK(keys_of(scan_ok(index, "b", 10)) == std::vector<std::string>{"b", "c", "\xc3\xa9"});
  CHECK(keys_of(scan_ok(index, "bb", 10)) == std::vector<std::string>{"c", "\xc3\xa9"});
  CHECK(keys_of(scan_ok(index, "d", 10)) == std::vector<std::string>{"\xc3\xa9"});
  CHECK(scan_ok(index, "\xff", 10).empty());
  CHECK(scan_ok(index, "a", 0).empty());
  CHECK(scan_ok(index, "b", 1).front() == mkv::Entry{"b", record(2)});
}

TEST_CASE("paging through a listing visits every key once, in order") {
  ScratchDir dir;
  auto index = open_index(dir.index_path());
  std::vector<std::string> under;
  std::vector<Write> batch;
  for (int i = 0; i < 1000; ++i) {
    std::string key = "p/" + std::to_string(i * 7919 % 1000);
    under.push_back(key);
    batch.push_back(put(key, record(i)));
  }
  for (const char* other : {"o", "p", "p0", "q/1"}) batch.push_back(put(other, record(0)));
  apply_ok(index, batch);
  for (const std::size_t page : {1, 3, 100, 999, 1000, 5000}) {
    CAPTURE(page);
    CHECK(list_paged(index, "p/", page) == byte_sorted(under));
  }
}

TEST_CASE("long keys that share long prefixes keep their order") {
  // Prefixes around LMDB's 511-byte key limit, and keys that are prefixes of each other.
  const std::string shared(600, 's');
  std::vector<std::string> keys;
  for (const std::size_t len : {509, 510, 511, 512, 513, 600}) {
    keys.push_back(shared.substr(0, len));
  }
  for (int i = 0; i < 400; ++i) {
    std::string tail = std::to_string(i * 37 % 400);
    keys.push_back(shared + "/" + tail + std::string(1024 - shared.size() - 1 - tail.size(), 't'));
    keys.push_back(shared.substr(0, 505) + "/" + tail);
    keys.push_back(shared.substr(0, 511) + tail);
  }
  keys.push_back(std::string(1024, 's'));
  keys.push_back(shared + "\xff");
  keys.push_back(shared + "\x80" + std::string(100, 'z'));
  keys.push_back(shared.substr(0, 510) + "\x01");
  keys.push_back(shared.substr(0, 512) + "\x01");
  keys.push_back("t");
  keys.push_back("r");
  const auto sorted = byte_sorted(keys);

  ScratchDir dir;
  auto index = open_index(dir.index_path());
  std::vector<Write> batch;
  for (std::size_t i = 0; i < keys.size(); ++i) batch.push_back(put(keys[i], record(i)));
  apply_ok(index, batch);

  CHECK(list_ok(index, "", "", 10000) == sorted);
  CHECK(list_paged(index, "", 7) == sorted);
  CHECK(keys_of(scan_all(index, 13)) == sorted);
  for (std::size_t i = 0; i < keys.size(); ++i) CHECK(get_ok(index, keys[i]) == record(i));
  CHECK_FALSE(get_ok(index, shared.substr(0, 508)).has_value());
  CHECK_FALSE(get_ok(index, shared + "/").has_value());
  CHECK_FALSE(get_ok(index, std::string(1023, 's')).has_value());

  // Prefixes shorter than, equal to and longer than 511 bytes.
  const std::string& long_key = keys[6];  // shared + "/0" + 't' up to 1024 bytes
  REQUIRE(long_key.size() == 1024);
  for (const std::size_t len : {1, 300, 505, 506, 510, 511, 512, 513, 600, 601, 602, 700, 1024}) {
    const std::string prefix = len <= 600 ? shared.substr(0, len) : long_key.substr(0, len);
    CAPTURE(len);
    std::vector<std::string> expected;
    for (const auto& k : sorted) {
      if (k.starts_with(prefix)) expected.push_back(k);
    }
    CHECK(list_paged(index, prefix, 50) == expected);
    CHECK(list_paged(index, prefix, 1) == expected);
  }

  // Overwrite and delete half of the keys that share 600 bytes, then check again.
  batch.clear();
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].starts_with(shared) && i % 2 == 0) {
      batch.push_back(erase(keys[i]));
    } else {
      batch.push_back(put(keys[i], record(i + 1)));
      kept.push_back(keys[i]);
    }
  }
  apply_ok(index, batch);
  CHECK(list_paged(index, "", 11) == byte_sorted(kept));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].starts_with(shared) && i % 2 == 0) {
      CHECK_FALSE(get_ok(index, keys[i]).has_value());
    } else {
      CHECK(get_ok(index, keys[i]) == record(i + 1));
    }
  }
}

TEST_CASE("random writes and reads agree with an ordered map") {
  // Keys from a small alphabet over long shared stems, so that many keys share prefixes of
  // every length around 511 bytes; values checked after each batch against std::map.
  std::mt19937_64 rng(20261124);
  const std::string stems[] = {"", "d/", std::string(250, 'm') + "/", std::string(505, 'n'),
                               std::string(511, 'n'), std::string(700, 'n')};
  const char alphabet[] = {'a', 'b', '/', ' ', '%', '\x7f', '\x80', '\xc3', '\xff'};
  const auto random_key = [&] {
    std::string key = stems[rng() % std::size(stems)];
    const std::size_t room = 1024 - key.size();
    const std::size_t len = 1 + rng() % std::min<std::size_t>(room, rng() % 2 ? 8 : 400);
    for (std::size_t i = 0; i < len; ++i) key.push_back(alphabet[rng() % std::size(alphabet)]);
    return key;
  };

  ScratchDir dir;
  auto index = open_index(dir.index_path());
  std::map<std::string, Record> model;
  std::vector<std::string> known;
  for (int round = 0; round < 60; ++round) {
    std::vector<Write> batch;
    const std::size_t writes = 1 + rng() % 60;
    for (std::size_t i = 0; i < writes; ++i) {
      const bool reuse = !known.empty() && rng() % 3 == 0;
      std::string key = reuse ? known[rng() % known.size()] : random_key();
      if (reuse && rng() % 2 == 0) {
        batch.push_back(erase(key));
        model.erase(key);
      } else {
        Record r = record(rng() % 1000000, {"http://v" + std::to_string(rng() % 5) + ":80"});
        batch.push_back(put(key, r));
        model[key] = r;
        known.push_back(key);
      }
    }
    apply_ok(index, batch);

    std::vector<std::string> model_keys;
    for (const auto& [k, r] : model) model_keys.push_back(k);
    REQUIRE(list_paged(index, "", 1 + rng() % 40) == model_keys);
    const auto entries = scan_all(index, 1 + rng() % 40);
    REQUIRE(entries.size() == model.size());
    auto it = model.begin();
    for (const auto& e : entries) {
      CHECK(e.key == it->first);
      CHECK(e.record == it->second);
      ++it;
    }
    for (int q = 0; q < 20; ++q) {
      const std::string& base = known[rng() % known.size()];
      const std::string prefix = base.substr(0, rng() % (base.size() + 1));
      const std::string start = rng() % 2 ? std::string() : random_key();
      const std::size_t limit = 1 + rng() % 50;
      std::vector<std::string> expected;
      for (auto m = model.lower_bound(std::max(prefix, start));
           m != model.end() && m->first.starts_with(prefix) && expected.size() < limit; ++m) {
        expected.push_back(m->first);
      }
      CAPTURE(prefix.size());
      CAPTURE(start.size());
      CHECK(list_ok(index, prefix, start, limit) == expected);
      const auto found = model.find(base);
      CHECK(get_ok(index, base) ==
            (found == model.end() ? std::nullopt : std::optional<Record>(found->second)));
    }
  }
}
