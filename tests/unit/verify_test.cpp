// Verify decisions: what a read copy is, what a key's copies say together, and the summary.
#include "mkv/verify.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using mkv::CopyCheck;
using mkv::CopyRead;
using mkv::CopyState;
using mkv::KeyVerdict;
using mkv::Record;

TEST_CASE("classify_copy: a table of reads against a record") {
  const Record known{{"http://v1"}, 3, mkv::md5_of("abc"), 0};
  const Record unknown{{"http://v1"}, 3, std::nullopt, 0};
  const auto good = mkv::md5_of("abc");
  const auto other = mkv::md5_of("abd");
  struct Case {
    CopyRead read;
    const Record& record;
    CopyState state;
  };
  const Case cases[] = {
      {{200u, 3u, good}, known, CopyState::good},
      {{200u, 3u, other}, known, CopyState::corrupt},
      {{200u, 2u, std::nullopt}, known, CopyState::wrong_size},
      {{404u, std::nullopt, std::nullopt}, known, CopyState::missing},
      {{std::nullopt, std::nullopt, std::nullopt}, known, CopyState::unreadable},
      {{500u, std::nullopt, std::nullopt}, known, CopyState::unreadable},
      {{200u, 3u, std::nullopt}, known, CopyState::unreadable},  // cut off midway
      {{200u, 3u, other}, unknown, CopyState::good},  // judged against the others later
  };
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    CAPTURE(i);
    CHECK(mkv::classify_copy(cases[i].read, cases[i].record) == cases[i].state);
  }
}

TEST_CASE("judge_key: what the copies say together") {
  const auto a = mkv::md5_of("a");
  const auto b = mkv::md5_of("b");
  const Record known{{"http://v1", "http://v2"}, 1, a, 0};
  const Record unknown{{"http://v1", "http://v2"}, 1, std::nullopt, 0};
  using Outcome = KeyVerdict::Outcome;
  struct Case {
    const char* what;
    const Record& record;
    std::vector<CopyCheck> copies;
    KeyVerdict verdict;
  };
  const std::vector<Case> cases = {
      {"all good", known, {{"http://v1", CopyState::good, a}, {"http://v2", CopyState::good, a}},
       {Outcome::good, std::nullopt, {}, "http://v1"}},
      {"one corrupt", known,
       {{"http://v1", CopyState::corrupt, std::nullopt}, {"http://v2", CopyState::good, a}},
       {Outcome::damaged, std::nullopt, {"http://v1"}, "http://v2"}},
      {"missing and wrong size, one good", known,
       {{"http://v1", CopyState::missing, {}}, {"http://v2", CopyState::wrong_size, {}},
        {"http://v3", CopyState::good, a}},
       {Outcome::damaged, std::nullopt, {"http://v1", "http://v2"}, "http://v3"}},
      {"none good", known,
       {{"http://v1", CopyState::missing, {}}, {"http://v2", CopyState::corrupt, {}}},
       {Outcome::lost, std::nullopt, {"http://v1", "http://v2"}, std::nullopt}},
      {"bad and unreadable, none good: not lost yet", known,
       {{"http://v1", CopyState::missing, {}}, {"http://v2", CopyState::unreadable, {}}},
       {Outcome::unreadable, std::nullopt, {"http://v1"}, std::nullopt}},
      {"good and unreadable", known,
       {{"http://v1", CopyState::good, a}, {"http://v2", CopyState::unreadable, {}}},
       {Outcome::unreadable, std::nullopt, {}, "http://v1"}},
      {"unknown checksum, copies agree: learned", unknown,
       {{"http://v1", CopyState::good, a}, {"http://v2", CopyState::good, a}},
       {Outcome::good, a, {}, "http://v1"}},
      {"unknown checksum, one missing: learned from the rest, repairable", unknown,
       {{"http://v1", CopyState::missing, {}}, {"http://v2", CopyState::good, a}},
       {Outcome::damaged, a, {"http://v1"}, "http://v2"}},
      {"unknown checksum, copies disagree: conflict", unknown,
       {{"http://v1", CopyState::good, a}, {"http://v2", CopyState::good, b}},
       {Outcome::conflict, std::nullopt, {}, std::nullopt}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CHECK(mkv::judge_key(c.record, c.copies) == c.verdict);
  }
}

TEST_CASE("the summary: counts, and whether everything is good") {
  mkv::VerifySummary s;
  for (auto state : {CopyState::good, CopyState::good, CopyState::corrupt, CopyState::missing}) {
    s = mkv::tally_copy(s, state);
  }
  s.keys = 2;
  s.bytes = 2048;
  s.seconds = 2;
  CHECK(s.copies == 4);
  CHECK_FALSE(mkv::verified(s));
  CHECK(mkv::format_verify_summary(s, false).find("run `verify --repair`") != std::string::npos);
  s.repaired = 2;
  CHECK(mkv::verified(s));
  CHECK(mkv::format_verify_summary(s, true).ends_with("every copy is good again\n"));
  s.lost = 1;
  CHECK_FALSE(mkv::verified(s));
  CHECK(mkv::format_verify_progress(s) ==
        "verify: 2 keys, 4 copies, 2.0 KiB read (1.0 KiB/s, 1.0 keys/s), 2 bad, 2 repaired");
}
