// The admin listener's requests: routing and settings, and the job stream's lines.
#include "mkv/admin_request.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using mkv::AdminRequest;
using mkv::errc;
using mkv::JobLine;

TEST_CASE("admin targets and their settings") {
  AdminRequest metrics;
  AdminRequest verify_default;
  verify_default.what = AdminRequest::What::verify;
  AdminRequest verify_all = verify_default;
  verify_all.verify = {true, "photos/2026", 25.5, 4};
  verify_all.gc.concurrency = verify_all.rebalance.concurrency = 4;
  AdminRequest gc_default;
  gc_default.what = AdminRequest::What::gc;
  AdminRequest gc_all = gc_default;
  gc_all.gc = {true, 0, 32};
  gc_all.verify.concurrency = gc_all.rebalance.concurrency = 32;
  AdminRequest verify_prefix_escaped = verify_default;
  verify_prefix_escaped.verify.prefix = "a b&c";
  AdminRequest verify_off = verify_default;

  const struct {
    const char* method;
    const char* target;
    AdminRequest want;
  } ok[] = {
      {"GET", "/metrics", metrics},
      {"GET", "/metrics?anything", metrics},
      {"POST", "/jobs/verify", verify_default},
      {"POST", "/jobs/verify?repair=1&prefix=photos/2026&rate=25.5&concurrency=4", verify_all},
      {"POST", "/jobs/verify?repair&prefix=photos%2F2026&rate=25.5&concurrency=4", verify_all},
      {"POST", "/jobs/verify?repair=0", verify_off},
      {"POST", "/jobs/verify?prefix=a%20b%26c", verify_prefix_escaped},
      {"POST", "/jobs/gc", gc_default},
      {"POST", "/jobs/gc?dry-run=true&grace=0&concurrency=32", gc_all},
  };
  for (const auto& row : ok) {
    CAPTURE(std::string(row.target));
    auto parsed = mkv::parse_admin_request(row.method, row.target);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == row.want);
  }

  const struct {
    const char* method;
    const char* target;
    errc code;
    const char* message;
  } bad[] = {
      {"GET", "/", errc::not_found, "not found"},
      {"GET", "/jobs", errc::not_found, "not found"},
      {"POST", "/jobs/rebuild", errc::not_found, "not found"},
      {"POST", "/metrics", errc::method_not_allowed, "method not allowed"},
      {"GET", "/jobs/verify", errc::method_not_allowed, "method not allowed"},
      {"POST", "/jobs/verify?fix=1", errc::invalid_query,
       "invalid query: unknown parameter fix for verify"},
      {"POST", "/jobs/gc?repair=1", errc::invalid_query,
       "invalid query: unknown parameter repair for gc"},
      {"POST", "/jobs/verify?repair=yes", errc::invalid_query,
       "invalid query: repair must be 1 or 0, not \"yes\""},
      {"POST", "/jobs/verify?concurrency=0", errc::invalid_query,
       "invalid query: concurrency must be a whole number from 1 to 1024, not \"0\""},
      {"POST", "/jobs/verify?concurrency=5x", errc::invalid_query,
       "invalid query: concurrency must be a whole number from 1 to 1024, not \"5x\""},
      {"POST", "/jobs/verify?rate=-1", errc::invalid_query,
       "invalid query: rate must be a number of MB/s (0: no limit), not \"-1\""},
      {"POST", "/jobs/gc?grace=-5", errc::invalid_query,
       "invalid query: grace must be a whole number from 0 to 315360000, not \"-5\""},
      {"POST", "/jobs/verify?prefix=a&prefix=b", errc::invalid_query,
       "invalid query: prefix given twice"},
  };
  for (const auto& row : bad) {
    CAPTURE(std::string(row.target));
    auto parsed = mkv::parse_admin_request(row.method, row.target);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == row.code);
    CHECK(mkv::message(parsed.error()) == row.message);
  }
}

TEST_CASE("an online rebalance names the topology to move to") {
  auto parsed = mkv::parse_admin_request(
      "POST", "/jobs/rebalance?volumes=http://a:1,http://b:2/x&replicas=2&grace=0&dry-run&rate=1.5");
  REQUIRE(parsed.has_value());
  CHECK(parsed->what == AdminRequest::What::rebalance);
  CHECK(parsed->rebalance.target.urls == std::vector<std::string>{"http://a:1", "http://b:2/x"});
  CHECK(parsed->rebalance.target.replicas == 2);
  CHECK(parsed->rebalance.grace_seconds == 0);
  CHECK(parsed->rebalance.dry_run);
  CHECK(parsed->rebalance.rate_mb == 1.5);
  auto defaults = mkv::parse_admin_request("POST", "/jobs/rebalance?volumes=http://a:1&replicas=1");
  REQUIRE(defaults.has_value());
  CHECK(defaults->rebalance.grace_seconds == 10);
  CHECK_FALSE(defaults->rebalance.dry_run);

  const struct {
    const char* target;
    const char* message;
  } bad[] = {
      {"/jobs/rebalance", "invalid query: rebalance needs volumes and replicas"},
      {"/jobs/rebalance?volumes=http://a:1", "invalid query: rebalance needs volumes and replicas"},
      {"/jobs/rebalance?volumes=http://a:1&replicas=2",
       "invalid query: need 2 volumes but only 1 available"},
      {"/jobs/rebalance?volumes=ftp://a&replicas=1", "invalid query: volumes: invalid volume URL: "},
      {"/jobs/rebalance?volumes=http://a:1&replicas=1&repair=1",
       "invalid query: unknown parameter repair for rebalance"},
  };
  for (const auto& row : bad) {
    CAPTURE(std::string(row.target));
    auto refused = mkv::parse_admin_request("POST", row.target);
    REQUIRE_FALSE(refused.has_value());
    CHECK(mkv::message(refused.error()).starts_with(row.message));
  }
}

TEST_CASE("admin_target is what parse_admin_request reads back") {
  std::vector<AdminRequest> requests(6);
  requests[1].what = AdminRequest::What::verify;
  requests[2].what = AdminRequest::What::verify;
  requests[2].verify = {true, "a b&c/é?#", 0.25, 3};
  requests[3].what = AdminRequest::What::gc;
  requests[3].gc = {true, 0, 7};
  requests[4].what = AdminRequest::What::rebalance;
  requests[4].rebalance.target =
      mkv::make_topology(mkv::parse_volume_list("http://a:1,http://b:2/x").value(), 2);
  requests[5] = requests[4];
  requests[5].rebalance.dry_run = true;
  requests[5].rebalance.grace_seconds = 0;
  requests[5].rebalance.concurrency = 9;
  requests[5].rebalance.rate_mb = 2.5;
  for (auto& r : requests) {
    // One concurrency travels for every kind of job.
    const std::size_t c = r.what == AdminRequest::What::gc          ? r.gc.concurrency
                          : r.what == AdminRequest::What::rebalance ? r.rebalance.concurrency
                                                                    : r.verify.concurrency;
    if (r.what != AdminRequest::What::metrics) {
      r.verify.concurrency = r.gc.concurrency = r.rebalance.concurrency = c;
    }
    const std::string target = mkv::admin_target(r);
    CAPTURE(target);
    const std::string method = r.what == AdminRequest::What::metrics ? "GET" : "POST";
    auto parsed = mkv::parse_admin_request(method, target);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == r);
  }
}

TEST_CASE("job stream lines round-trip, one line each") {
  const struct {
    JobLine kind;
    const char* text;
    const char* line;
  } rows[] = {
      {JobLine::note, "verify: a on v: corrupt", "note verify: a on v: corrupt\n"},
      {JobLine::progress, "verify: 10 keys", "progress verify: 10 keys\n"},
      {JobLine::summary, "  good copies: 3", "summary   good copies: 3\n"},
      {JobLine::exit, "0", "exit 0\n"},
      {JobLine::note, "two\nlines", "note two lines\n"},
      {JobLine::summary, "", "summary \n"},
      {JobLine::out, "plan: 3 keys", "out plan: 3 keys\n"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.text);
    const std::string line = mkv::job_line(row.kind, row.text);
    CHECK(line == row.line);
    auto read = mkv::read_job_line(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(read.has_value());
    CHECK(read->first == row.kind);
  }
  CHECK_FALSE(mkv::read_job_line("hello").has_value());
  CHECK_FALSE(mkv::read_job_line("").has_value());
  CHECK_FALSE(mkv::read_job_line("exit").has_value());
}
