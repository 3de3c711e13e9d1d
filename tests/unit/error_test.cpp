// Errors: the exact message text and HTTP status of every error code.
#include "mkv/error.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("every error has the spec's message and status") {
  struct Case {
    mkv::Error error;
    unsigned status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {mkv::Error::not_found(), 404, "not found"},
      {mkv::Error::corrupt_record("a/b"), 500, "corrupt record for key a/b: no volumes"},
      {mkv::Error::database("disk I/O error"), 500, "database error: disk I/O error"},
      {mkv::Error::volume_write_failed("v1: timeout"), 502, "not all volume writes succeeded"},
      {mkv::Error::not_enough_volumes(3, 2), 503, "need 3 volumes but only 2 available"},
      {mkv::Error::invalid_key("dot segment"), 400, "invalid key: dot segment"},
      {mkv::Error::invalid_query("unknown parameter x"), 400, "invalid query: unknown parameter x"},
      {mkv::Error::key_conflict("\"a\" exists"), 409, "key conflict: \"a\" exists"},
      {mkv::Error::method_not_allowed("GET"), 405, "method not allowed"},
      {mkv::Error::bad_request("bad chunk"), 400, "bad request: bad chunk"},
      {mkv::Error::volume_request_failed("http://v1: connect: refused"), 502,
       "volume request failed: http://v1: connect: refused"},
      {mkv::Error::malformed_listing("autoindex: not JSON"), 502,
       "malformed volume listing: autoindex: not JSON"},
      {mkv::Error::invalid_volume_url("volume ftp://v: only http:// volumes are supported"), 500,
       "invalid volume URL: volume ftp://v: only http:// volumes are supported"},
      {mkv::Error::shutting_down(), 503, "server is shutting down"},
      {mkv::Error::job_running("verify"), 409,
       "busy: a verify job is running on this server; wait for it to end"},
      {mkv::Error::payload_hash_mismatch("x-amz-content-sha256 says 00, the body's is 11"), 400,
       "payload hash mismatch: x-amz-content-sha256 says 00, the body's is 11"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.message);
    CHECK(mkv::http_status(c.error.code) == c.status);
    CHECK(mkv::message(c.error) == c.message);
  }
}

TEST_CASE("Result carries a value or an Error") {
  mkv::Result<int> ok = 7;
  mkv::Result<int> failed = mkv::Error::not_found();
  CHECK(ok.has_value());
  CHECK(*ok == 7);
  CHECK_FALSE(failed.has_value());
  CHECK(failed.error() == mkv::Error::not_found());
  CHECK_THROWS_WITH(failed.value(), "not found");
}
