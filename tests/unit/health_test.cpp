// Volume health: the state changes a sequence of observations makes, which volume a GET is
// redirected to, and the health report.
#include "mkv/health.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using mkv::Health;
using mkv::Seen;
using mkv::VolumeState;

namespace {

// Returns the health after each observation of seen, starting from start, and whether any
// step asked for a capability check (and after which observation, 1-based; 0 if none).
struct Run {
  Health health;
  std::vector<VolumeState> states;  // after each observation
  std::vector<std::size_t> checks;  // observations after which a check was asked for
};
Run run(Health start, const std::vector<Seen>& seen) {
  Run r{start, {}, {}};
  for (std::size_t i = 0; i < seen.size(); ++i) {
    const auto step = mkv::observe(r.health, seen[i]);
    CHECK(step.changed == (step.health.state != r.health.state));
    r.health = step.health;
    r.states.push_back(r.health.state);
    if (step.check_capabilities) r.checks.push_back(i + 1);
  }
  return r;
}

constexpr auto up = VolumeState::up;
constexpr auto down = VolumeState::down;
constexpr auto unwritable = VolumeState::unwritable;
constexpr auto A = Seen::answered;
constexpr auto F = Seen::failed;

}  // namespace

TEST_CASE("observe: hysteresis of three failures down, two answers then a check back up") {
  struct Case {
    const char* what;
    VolumeState start;
    std::vector<Seen> seen;
    std::vector<VolumeState> states;
    std::vector<std::size_t> checks;
  };
  const std::vector<Case> cases = {
      {"answers keep it up", up, {A, A, A}, {up, up, up}, {}},
      {"two failures are not enough", up, {F, F, A, F, F}, {up, up, up, up, up}, {}},
      {"three in a row take it down", up, {F, F, F}, {up, up, down}, {}},
      {"more failures keep it down", up, {F, F, F, F, F}, {up, up, down, down, down}, {}},
      {"down: two answers ask for a check, once", down, {A, A, A, A},
       {down, down, down, down}, {2}},
      {"down: a failure between resets the count", down, {A, F, A, A},
       {down, down, down, down}, {4}},
      {"down, checked capable: up", down, {A, A, Seen::capable}, {down, down, up}, {2}},
      {"down, checked incapable: unwritable", down, {A, A, Seen::incapable},
       {down, down, unwritable}, {2}},
      {"incapable from up", up, {Seen::incapable}, {unwritable}, {}},
      {"unwritable and failing goes down", unwritable, {F, F, F}, {unwritable, unwritable, down},
       {}},
      {"capable again from unwritable", unwritable, {Seen::capable}, {up}, {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const Run r = run(Health{c.start, 0, 0}, c.seen);
    CHECK(r.states == c.states);
    CHECK(r.checks == c.checks);
  }
}

TEST_CASE("observe: an unwritable volume that answers is checked again every 30 answers") {
  const Run r = run(Health{unwritable, 0, 0}, std::vector<Seen>(65, A));
  CHECK(r.checks == std::vector<std::size_t>{30, 60});
  CHECK(r.health.state == unwritable);
}

TEST_CASE("observe: custom rise and fall") {
  const mkv::HealthRules rules{1, 1, 0};
  auto step = mkv::observe(Health{}, F, rules);
  CHECK(step.health.state == down);
  step = mkv::observe(step.health, A, rules);
  CHECK(step.check_capabilities);
  CHECK(step.health.state == down);  // only the check brings it back
  CHECK_FALSE(mkv::observe(Health{unwritable, 0, 5}, A, rules).check_capabilities);
}

TEST_CASE("readable and writable states") {
  CHECK(mkv::readable(up));
  CHECK(mkv::readable(unwritable));
  CHECK_FALSE(mkv::readable(down));
  CHECK(mkv::writable(up));
  CHECK_FALSE(mkv::writable(unwritable));
  CHECK_FALSE(mkv::writable(down));
  CHECK(mkv::state_name(unwritable) == "unwritable");
}

TEST_CASE("pick_readable: the first volume not down, or the first of all") {
  struct Case {
    std::vector<VolumeState> states;
    std::size_t chosen;
  };
  const std::vector<Case> cases = {
      {{up, up}, 0},       {{down, up}, 1},         {{down, unwritable}, 1},
      {{down, down}, 0},   {{down, down, up}, 2},   {{unwritable, up}, 0},
      {{up}, 0},           {{}, 0},
  };
  for (const auto& c : cases) CHECK(mkv::pick_readable(c.states) == c.chosen);
}

TEST_CASE("the health report: overall status, HTTP status and JSON") {
  mkv::HealthReport report;
  report.volumes = {{"http://v1", up, "2026-11-30T10:00:00Z", ""},
                    {"http://v2", up, "2026-11-30T10:00:00Z", ""}};
  CHECK(mkv::overall_status(report) == "ok");
  CHECK(mkv::health_http_status(report) == 200);
  CHECK(mkv::encode_health(report) ==
        R"({"status":"ok","index":"ok","volumes":[)"
        R"({"url":"http://v1","state":"up","since":"2026-11-30T10:00:00Z","last_error":""},)"
        R"({"url":"http://v2","state":"up","since":"2026-11-30T10:00:00Z","last_error":""}]})");

  report.volumes[1].state = down;
  report.volumes[1].last_error = "http://v2: connect: Connection refused";
  CHECK(mkv::overall_status(report) == "degraded");
  CHECK(mkv::health_http_status(report) == 200);
  CHECK(mkv::encode_health(report).find(R"("state":"down")") != std::string::npos);

  report.index_error = "database error: disk I/O error";
  CHECK(mkv::overall_status(report) == "failing");
  CHECK(mkv::health_http_status(report) == 503);
  CHECK(mkv::encode_health(report).starts_with(
      R"({"status":"failing","index":"database error: disk I/O error",)"));
}
