// The one place native errors become S3 errors (s3/reply.h): each native code's S3 code, and the
// error reply's status, type and body.
#include "s3/reply.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using mkv::errc;
using mkv::Error;
using mkv::s3errc;

TEST_CASE("s3_error_of gives every native error its S3 code") {
  struct Case {
    Error error;
    s3errc expected;
  };
  const std::vector<Case> cases = {
      {Error::not_found(), s3errc::no_such_key},
      {{errc::key_conflict, "\"a\" exists"}, s3errc::invalid_argument},
      {{errc::invalid_key, "bad"}, s3errc::invalid_argument},
      {{errc::invalid_query, "bad"}, s3errc::invalid_argument},
      {{errc::invalid_condition, "bad"}, s3errc::invalid_argument},
      {{errc::bad_request, "bad"}, s3errc::invalid_request},
      {{errc::bad_digest, "md5"}, s3errc::bad_digest},
      {{errc::payload_hash_mismatch, "sha"}, s3errc::x_amz_content_sha256_mismatch},
      {{errc::precondition_failed, ""}, s3errc::precondition_failed},
      {{errc::method_not_allowed, "GET"}, s3errc::method_not_allowed},
      // Volumes that cannot take or give a blob now: 503, which clients retry.
      {Error::volume_write_failed(), s3errc::service_unavailable},
      {Error::volume_request_failed("down"), s3errc::service_unavailable},
      {Error::not_enough_volumes(3, 2), s3errc::service_unavailable},
      {{errc::shutting_down, ""}, s3errc::service_unavailable},
      {{errc::job_running, "rebalance"}, s3errc::service_unavailable},
      // What retrying does not mend: 500.
      {Error::database("disk full"), s3errc::internal_error},
      {Error::corrupt_record("b/k"), s3errc::internal_error},
      {Error::malformed_listing("x"), s3errc::internal_error},
      {{errc::invalid_volume_url, "x"}, s3errc::internal_error},
  };
  for (const auto& c : cases) {
    CAPTURE(static_cast<int>(c.error.code));
    CHECK(mkv::s3_error_of(c.error).code == c.expected);
  }
}

TEST_CASE("an S3 error reply carries the status, XML type, request id and document") {
  const auto reply = mkv::s3_error_reply(mkv::s3_error(s3errc::service_unavailable, "later"),
                                         "/b/k", "req-1");
  CHECK(reply.result_int() == 503);
  CHECK(reply[mkv::http::field::content_type] == "application/xml");
  CHECK(reply["x-amz-request-id"] == "req-1");
  CHECK(reply.body().find("<Code>ServiceUnavailable</Code>") != std::string::npos);
  CHECK(reply.body().find("<Message>later</Message>") != std::string::npos);
}
