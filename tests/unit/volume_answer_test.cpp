// What a volume's answer means: the classification of status codes, when an unanswered request
// is sent again, and which PUT bodies may be pipelined.
#include "mkv/volume_answer.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>

TEST_CASE("classify_answer: one table for every request mkv sends a volume") {
  using mkv::Answer;
  using mkv::VolumeVerb;
  struct Case {
    VolumeVerb verb;
    unsigned status;
    Answer expected;
  };
  const Case cases[] = {
      {VolumeVerb::put, 201, Answer::done},      {VolumeVerb::put, 204, Answer::done},
      {VolumeVerb::put, 200, Answer::failed},    {VolumeVerb::put, 404, Answer::failed},
      {VolumeVerb::put, 409, Answer::failed},    {VolumeVerb::put, 500, Answer::failed},
      {VolumeVerb::put, 507, Answer::failed},    {VolumeVerb::remove, 204, Answer::done},
      {VolumeVerb::remove, 200, Answer::done},   {VolumeVerb::remove, 404, Answer::absent},
      {VolumeVerb::remove, 405, Answer::failed}, {VolumeVerb::remove, 500, Answer::failed},
      {VolumeVerb::move, 201, Answer::done},     {VolumeVerb::move, 204, Answer::done},
      {VolumeVerb::move, 404, Answer::absent},   {VolumeVerb::move, 405, Answer::failed},
      {VolumeVerb::move, 502, Answer::failed},   {VolumeVerb::get, 200, Answer::done},
      {VolumeVerb::get, 206, Answer::failed},    {VolumeVerb::get, 404, Answer::absent},
      {VolumeVerb::get, 403, Answer::failed},    {VolumeVerb::get, 500, Answer::failed},
  };
  for (const auto& c : cases) {
    CAPTURE(static_cast<int>(c.verb));
    CAPTURE(c.status);
    CHECK(mkv::classify_answer(c.verb, c.status) == c.expected);
  }
}

TEST_CASE("removed: a DELETE that deleted, or found nothing to delete") {
  CHECK(mkv::removed(204));
  CHECK(mkv::removed(200));
  CHECK(mkv::removed(404));
  CHECK_FALSE(mkv::removed(405));
  CHECK_FALSE(mkv::removed(500));
}

TEST_CASE("after_no_answer resends once after a dropped keep-alive, always after a clean close") {
  using mkv::Unanswered;
  struct Case {
    bool closed_cleanly, connection_worked, resent_before;
    Unanswered expected;
  };
  const Case cases[] = {
      {true, false, false, Unanswered::resend},
      {true, true, false, Unanswered::resend},
      {true, true, true, Unanswered::resend},
      {true, false, true, Unanswered::resend},
      {false, true, false, Unanswered::resend},
      {false, true, true, Unanswered::fail},
      {false, false, false, Unanswered::fail},
      {false, false, true, Unanswered::fail},
  };
  for (const auto& c : cases) {
    CAPTURE(c.closed_cleanly);
    CAPTURE(c.connection_worked);
    CAPTURE(c.resent_before);
    CHECK(mkv::after_no_answer(c.closed_cleanly, c.connection_worked, c.resent_before) ==
          c.expected);
  }
}

TEST_CASE("pipelinable_body: whole, exactly the declared length, within the limit") {
  struct Case {
    bool whole;
    std::optional<std::uint64_t> declared;
    std::uint64_t size, limit;
    bool expected;
  };
  const Case cases[] = {
      {true, 1024, 1024, 65536, true},
      {true, 0, 0, 65536, true},            // an empty body
      {true, 65536, 65536, 65536, true},    // exactly the limit
      {true, 65537, 65537, 65536, false},   // over the limit
      {false, 1024, 1024, 65536, false},    // only the first piece of a longer body
      {true, std::nullopt, 1024, 65536, false},  // chunked: no declared length
      {true, 2048, 1024, 65536, false},     // shorter than declared
      {true, 1024, 2048, 65536, false},     // longer than declared
  };
  for (const auto& c : cases) {
    CAPTURE(c.size);
    CAPTURE(c.limit);
    CHECK(mkv::pipelinable_body(c.whole, c.declared, c.size, c.limit) == c.expected);
  }
}

TEST_CASE("after_no_answer never resends a request the volume sat on for the whole timeout") {
  using mkv::Unanswered;
  CHECK(mkv::after_no_answer(false, true, false, true) == Unanswered::fail);
  CHECK(mkv::after_no_answer(false, false, false, true) == Unanswered::fail);
  CHECK(mkv::after_no_answer(true, true, false, true) == Unanswered::resend);  // clean close first
  CHECK(mkv::after_no_answer(false, true, false, false) == Unanswered::resend);
}
