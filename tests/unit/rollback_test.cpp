// PUT fan-out decisions: write mode, rollback after a failed volume, settling after moves.
#include "mkv/rollback.h"

#include <doctest/doctest.h>

#include <optional>
#include <vector>

using mkv::MoveDecision;

TEST_CASE("put_mode stages only overwrites") {
  CHECK(mkv::put_mode(std::nullopt) == mkv::PutMode::direct);
  CHECK(mkv::put_mode(mkv::Record{{"http://v1"}, 3}) == mkv::PutMode::staged);
  CHECK(mkv::put_mode(mkv::Record{{}, 0}) == mkv::PutMode::staged);
}

TEST_CASE("decide_rollback commits only when every volume stored the body") {
  constexpr auto S = mkv::WriteOutcome::stored;
  constexpr auto R = mkv::WriteOutcome::refused;
  constexpr auto U = mkv::WriteOutcome::unknown;
  struct Case {
    std::vector<mkv::WriteOutcome> outcomes;
    mkv::FanOutDecision decision;
  };
  const std::vector<Case> cases = {
      {{S}, {true, {}}},
      {{S, S}, {true, {}}},
      {{S, S, S}, {true, {}}},
      {{R}, {false, {}}},
      {{U}, {false, {0}}},
      {{S, R}, {false, {0}}},
      {{R, S}, {false, {1}}},
      {{R, R}, {false, {}}},
      {{S, U}, {false, {0, 1}}},
      {{U, R}, {false, {0}}},
      {{S, R, S}, {false, {0, 2}}},
      {{R, S, U}, {false, {1, 2}}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.decision.undo);
    CHECK(mkv::decide_rollback(c.outcomes) == c.decision);
  }
}

TEST_CASE("decide_after_moves keeps, narrows or reverts the committed record") {
  struct Case {
    std::vector<bool> moved;
    MoveDecision decision;
  };
  const std::vector<Case> cases = {
      {{true}, {MoveDecision::Action::keep, {0}, {}}},
      {{true, true}, {MoveDecision::Action::keep, {0, 1}, {}}},
      {{true, false}, {MoveDecision::Action::narrow, {0}, {1}}},
      {{false, true, true}, {MoveDecision::Action::narrow, {1, 2}, {0}}},
      {{false}, {MoveDecision::Action::revert, {}, {0}}},
      {{false, false}, {MoveDecision::Action::revert, {}, {0, 1}}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.moved);
    CHECK(mkv::decide_after_moves(c.moved) == c.decision);
  }
}

TEST_CASE("stale_copies lists old volumes the new record drops") {
  const mkv::Record next{{"http://v1", "http://v4"}, 9};
  CHECK(mkv::stale_copies(std::nullopt, next).empty());
  CHECK(mkv::stale_copies(mkv::Record{{"http://v1", "http://v4"}, 1}, next).empty());
  CHECK(mkv::stale_copies(mkv::Record{{"http://v4", "http://v1"}, 1}, next).empty());
  CHECK(mkv::stale_copies(mkv::Record{{"http://v1", "http://v2"}, 1}, next) ==
        std::vector<std::string>{"http://v2"});
  CHECK(mkv::stale_copies(mkv::Record{{"http://v2", "http://v3"}, 1}, next) ==
        std::vector<std::string>{"http://v2", "http://v3"});
}

TEST_CASE("pick keeps the chosen positions in order") {
  const std::vector<std::string> v = {"a", "b", "c"};
  const std::vector<std::size_t> none, some = {0, 2};
  CHECK(mkv::pick(v, none).empty());
  CHECK(mkv::pick(v, some) == std::vector<std::string>{"a", "c"});
}

TEST_CASE("put_outcome: stored, refused, or unknown when the body went out without an answer") {
  using mkv::WriteOutcome;
  struct Case {
    std::optional<unsigned> status;
    bool body_sent;
    WriteOutcome expected;
  };
  const Case cases[] = {
      {201, true, WriteOutcome::stored},
      {204, true, WriteOutcome::stored},
      {500, true, WriteOutcome::refused},
      {409, true, WriteOutcome::refused},
      {507, false, WriteOutcome::refused},  // answered before the body was all out
      {std::nullopt, true, WriteOutcome::unknown},   // sent whole, then a timeout or reset
      {std::nullopt, false, WriteOutcome::refused},  // never connected, or abandoned mid-body
  };
  for (const auto& c : cases) {
    CAPTURE(c.status.value_or(0));
    CAPTURE(c.body_sent);
    CHECK(mkv::put_outcome(c.status, c.body_sent) == c.expected);
  }
}

TEST_CASE("directory_in_way: a new key's PUT refused with 409") {
  CHECK(mkv::directory_in_way(mkv::PutMode::direct, 409u));
  CHECK_FALSE(mkv::directory_in_way(mkv::PutMode::staged, 409u));  // an overwrite: a file
  CHECK_FALSE(mkv::directory_in_way(mkv::PutMode::direct, 500u));
  CHECK_FALSE(mkv::directory_in_way(mkv::PutMode::direct, 201u));
  CHECK_FALSE(mkv::directory_in_way(mkv::PutMode::direct, std::nullopt));
}
