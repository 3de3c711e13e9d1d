// The rebalance journal: its text form, and which copies plan_recovery deletes for each key.
#include "mkv/rebalance_journal.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using mkv::Cleanup;
using mkv::Entry;
using mkv::JournalEntry;
using mkv::Move;
using mkv::Record;

TEST_CASE("encode_journal writes one line per move and parse_journal reads it back") {
  const std::vector<std::string> keys = {
      "plain", "with space", "quote\"d", "back\\slash", "caf\xC3\xA9", "100%/x", "\xF0\x9F\x98\x80",
  };
  std::vector<Move> moves;
  for (const auto& key : keys) {
    Move m;
    m.key = key;
    m.before = Record{{"http://v1", "http://v3"}, 5};
    m.after = Record{{"http://v1", "http://v4"}, 5};
    moves.push_back(m);
  }
  const std::string text = mkv::encode_journal(mkv::journal_entries(moves));
  CHECK(std::count(text.begin(), text.end(), '\n') == static_cast<long>(keys.size()));
  CHECK(text.starts_with(
      "{\"key\":\"plain\",\"before\":[\"http://v1\",\"http://v3\"],\"after\":[\"http://v1\","
      "\"http://v4\"]}\n"));
  const auto parsed = mkv::parse_journal(text);
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->size() == keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    CHECK((*parsed)[i] == JournalEntry{keys[i], {"http://v1", "http://v3"},
                                       {"http://v1", "http://v4"}});
  }
  CHECK(mkv::encode_journal({}).empty());
}

TEST_CASE("parse_journal skips blank lines and a last line torn by a crash") {
  const std::string_view text =
      "\n"
      "{\"key\":\"a\",\"before\":[\"http://v1\"],\"after\":[]}\n"
      "   \n"
      "{\"key\":\"b\",\"before\":[],\"after\":[\"http://v2\"]}\n"
      "{\"key\":\"c\",\"befo";
  const auto parsed = mkv::parse_journal(text);
  REQUIRE(parsed.has_value());
  CHECK(*parsed == std::vector<JournalEntry>{{"a", {"http://v1"}, {}},
                                             {"b", {}, {"http://v2"}}});
  const auto empty = mkv::parse_journal("");
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
}

TEST_CASE("parse_journal rejects a complete line that is not a journal entry") {
  struct Case {
    std::string_view text;
    std::string_view detail;
  };
  const Case cases[] = {
      {"not json\n", "rebalance journal line 1: not a JSON object"},
      {"[]\n", "rebalance journal line 1: not a JSON object"},
      {"\n{\"before\":[],\"after\":[]}\n", "rebalance journal line 2: no string \"key\""},
      {"{\"key\":1,\"before\":[],\"after\":[]}\n", "rebalance journal line 1: no string \"key\""},
      {"{\"key\":\"k\",\"after\":[]}\n", "rebalance journal line 1: no array \"before\""},
      {"{\"key\":\"k\",\"before\":[]}\n", "rebalance journal line 1: no array \"after\""},
      {"{\"key\":\"k\",\"before\":\"v\",\"after\":[]}\n",
       "rebalance journal line 1: no array \"before\""},
      {"{\"key\":\"k\",\"before\":[],\"after\":[1]}\n",
       "rebalance journal line 1: \"after\" holds a non-string"},
      {"{\"key\":\"k\",\"before\":[],\"after\":[]} x\n",
       "rebalance journal line 1: not a JSON object"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const auto parsed = mkv::parse_journal(c.text);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error() == mkv::Error::database(std::string(c.detail)));
  }
}

TEST_CASE("plan_recovery deletes every journalled copy the index does not list") {
  const JournalEntry move_v3_to_v4{"k", {"http://v1", "http://v3"}, {"http://v1", "http://v4"}};
  struct Case {
    std::string_view what;
    std::optional<std::vector<std::string>> current;  // the key's record now; nullopt: gone
    std::vector<std::string> remove_from;
  };
  const Case cases[] = {
      {"index written, old copy left", std::vector<std::string>{"http://v1", "http://v4"},
       {"http://v3"}},
      {"index written in another order", std::vector<std::string>{"http://v4", "http://v1"},
       {"http://v3"}},
      {"index not written: undo the copy", std::vector<std::string>{"http://v1", "http://v3"},
       {"http://v4"}},
      {"key deleted since", std::nullopt, {"http://v1", "http://v3", "http://v4"}},
      {"key rewritten elsewhere since", std::vector<std::string>{"http://v2", "http://v4"},
       {"http://v1", "http://v3"}},
      {"every journal volume still listed",
       std::vector<std::string>{"http://v1", "http://v3", "http://v4"}, {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    std::vector<Entry> current;
    if (c.current) current.push_back({"k", {*c.current, 5}});
    const std::vector<JournalEntry> journal = {move_v3_to_v4};
    const auto cleanups = mkv::plan_recovery(journal, current);
    if (c.remove_from.empty()) {
      CHECK(cleanups.empty());
    } else {
      CHECK(cleanups == std::vector<Cleanup>{{"k", c.remove_from}});
    }
  }
}

TEST_CASE("plan_recovery handles many keys in journal order, ignoring unrelated records") {
  const std::vector<JournalEntry> journal = {
      {"b", {"http://v1"}, {"http://v2"}},
      {"a", {"http://v1", "http://v1"}, {"http://v3", "http://v3"}},
      {"c", {"http://v2"}, {"http://v2"}},
  };
  const std::vector<Entry> current = {
      {"a", {{"http://v1"}, 1}},
      {"b", {{"http://v2"}, 1}},
      {"c", {{"http://v2"}, 1}},
      {"z", {{"http://v9"}, 1}},
  };
  CHECK(mkv::plan_recovery(journal, current) ==
        std::vector<Cleanup>{{"b", {"http://v1"}}, {"a", {"http://v3"}}});
  CHECK(mkv::plan_recovery({}, current).empty());
}
