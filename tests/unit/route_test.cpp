// Routing: method and target to operation, or the error a request is answered with.
#include "mkv/route.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("route maps methods and targets to operations") {
  struct Case {
    std::string method, target;
    mkv::Operation op;
    std::string key;
  };
  const std::vector<Case> cases = {
      {"GET", "/a", mkv::Operation::get, "a"},
      {"HEAD", "/a/b", mkv::Operation::head, "a/b"},
      {"PUT", "/a%20b", mkv::Operation::put, "a b"},
      {"DELETE", "/x", mkv::Operation::remove, "x"},
      {"GET", "/", mkv::Operation::list, ""},
      {"GET", "/?prefix=a", mkv::Operation::list, ""},
      {"GET", "/.mkv/health", mkv::Operation::health, ""},
      {"HEAD", "/.mkv/health", mkv::Operation::health, ""},
      {"GET", "/.mkv/health?from=lb", mkv::Operation::health, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.method);
    CAPTURE(c.target);
    const auto r = mkv::route(c.method, c.target);
    REQUIRE(r.has_value());
    CHECK(r->op == c.op);
    CHECK(r->key == c.key);
  }
  CHECK(mkv::route("GET", "/?prefix=p&limit=3")->query == mkv::ListQuery{"p", "", 3});
}

TEST_CASE("route answers these requests with an error") {
  struct Case {
    std::string method, target;
    mkv::errc code;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {"POST", "/a", mkv::errc::method_not_allowed, "GET, HEAD, PUT, DELETE"},
      {"PATCH", "/a", mkv::errc::method_not_allowed, "GET, HEAD, PUT, DELETE"},
      {"BREW", "/a", mkv::errc::method_not_allowed, "GET, HEAD, PUT, DELETE"},
      {"PUT", "/", mkv::errc::method_not_allowed, "GET"},
      {"DELETE", "/", mkv::errc::method_not_allowed, "GET"},
      {"HEAD", "/", mkv::errc::method_not_allowed, "GET"},
      {"GET", "/a?x=1", mkv::errc::invalid_key, "query string not allowed (write '?' as %3F)"},
      {"PUT", "/a/../b", mkv::errc::invalid_key, "dot segment"},
      {"GET", "/?limit=0", mkv::errc::invalid_query, "limit must be a whole number from 1 to 10000"},
      {"GET", "/?bogus=1", mkv::errc::invalid_query, "unknown parameter bogus"},
      {"PUT", "/.mkv/health", mkv::errc::method_not_allowed, "GET, HEAD"},
      {"DELETE", "/.mkv/health", mkv::errc::method_not_allowed, "GET, HEAD"},
      {"GET", "/.mkv/healthz", mkv::errc::invalid_key, "path segment starts with '.'"},
      {"GET", "/.mkv/health/x", mkv::errc::invalid_key, "path segment starts with '.'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.method);
    CAPTURE(c.target);
    const auto r = mkv::route(c.method, c.target);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == c.code);
    CHECK(r.error().detail == c.detail);
  }
}
