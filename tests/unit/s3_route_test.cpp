// S3 routing: every operation mkv serves, the sub-resources it refuses by name, and the methods
// a resource does not take.
#include "mkv/s3_route.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using mkv::s3errc;
using mkv::S3Op;

namespace {

std::vector<mkv::QueryParam> query(const char* raw) {
  return mkv::parse_query(raw).value();
}

}  // namespace

TEST_CASE("route_s3 names the operation of each request") {
  const struct {
    const char* method;
    const char* bucket;
    const char* key;
    const char* query;
    bool copy;
    S3Op op;
  } rows[] = {
      {"GET", "", "", "", false, S3Op::list_buckets},
      {"PUT", "b", "", "", false, S3Op::create_bucket},
      {"HEAD", "b", "", "", false, S3Op::head_bucket},
      {"DELETE", "b", "", "", false, S3Op::delete_bucket},
      {"GET", "b", "", "location", false, S3Op::get_bucket_location},
      {"GET", "b", "", "", false, S3Op::list_objects},
      {"GET", "b", "", "list-type=2&prefix=a&delimiter=%2F", false, S3Op::list_objects},
      {"GET", "b", "", "uploads", false, S3Op::list_uploads},
      {"POST", "b", "", "delete", false, S3Op::delete_objects},
      {"POST", "b", "", "delete=", false, S3Op::delete_objects},
      {"PUT", "b", "k", "", false, S3Op::put_object},
      {"PUT", "b", "k", "", true, S3Op::copy_object},
      {"GET", "b", "a/b/c", "", false, S3Op::get_object},
      {"GET", "b", "k", "response-content-type=text%2Fplain", false, S3Op::get_object},
      {"HEAD", "b", "k", "", false, S3Op::head_object},
      {"DELETE", "b", "k", "", false, S3Op::delete_object},
      {"POST", "b", "k", "uploads", false, S3Op::create_upload},
      {"PUT", "b", "k", "partNumber=1&uploadId=u", false, S3Op::upload_part},
      {"POST", "b", "k", "uploadId=u", false, S3Op::complete_upload},
      {"DELETE", "b", "k", "uploadId=u", false, S3Op::abort_upload},
      {"GET", "b", "k", "uploadId=u&max-parts=10", false, S3Op::list_parts},
  };
  for (const auto& r : rows) {
    CAPTURE(std::string(r.method) + " /" + r.bucket + "/" + r.key + "?" + r.query);
    const auto params = query(r.query);
    const auto op = mkv::route_s3(r.method, r.bucket, r.key, params, r.copy);
    REQUIRE(op.has_value());
    CHECK(*op == r.op);
  }
}

TEST_CASE("route_s3 refuses what mkv does not serve, saying what") {
  const struct {
    const char* method;
    const char* bucket;
    const char* key;
    const char* query;
    bool copy;
    s3errc code;
    const char* says;
  } rows[] = {
      {"GET", "b", "", "acl", false, s3errc::not_implemented, "?acl"},
      {"PUT", "b", "k", "tagging", false, s3errc::not_implemented, "?tagging"},
      {"GET", "b", "", "versioning", false, s3errc::not_implemented, "?versioning"},
      {"GET", "b", "", "versions", false, s3errc::not_implemented, "?versions"},
      {"PUT", "b", "", "policy", false, s3errc::not_implemented, "?policy"},
      {"PUT", "b", "k", "partNumber=1&uploadId=u", true, s3errc::not_implemented, "UploadPartCopy"},
      {"POST", "b", "k", "", false, s3errc::not_implemented, "form uploads"},
      {"PUT", "b", "k", "uploadId=u", false, s3errc::invalid_argument, "partNumber"},
      {"PUT", "", "", "", false, s3errc::method_not_allowed, "the service"},
      {"DELETE", "", "", "", false, s3errc::method_not_allowed, "the service"},
      {"POST", "b", "", "", false, s3errc::method_not_allowed, "a bucket"},
      {"PUT", "b", "", "location", false, s3errc::method_not_allowed, "?location"},
      {"GET", "b", "", "delete", false, s3errc::method_not_allowed, "?delete"},
      {"PUT", "b", "", "uploads", false, s3errc::method_not_allowed, "?uploads"},
      {"GET", "b", "k", "uploads", false, s3errc::method_not_allowed, "?uploads"},
      {"HEAD", "b", "k", "uploadId=u", false, s3errc::method_not_allowed, "multipart upload"},
      {"PATCH", "b", "k", "", false, s3errc::method_not_allowed, "an object"},
  };
  for (const auto& r : rows) {
    CAPTURE(std::string(r.method) + " /" + r.bucket + "/" + r.key + "?" + r.query);
    const auto params = query(r.query);
    const auto op = mkv::route_s3(r.method, r.bucket, r.key, params, r.copy);
    REQUIRE_FALSE(op.has_value());
    CHECK(op.error().code == r.code);
    CAPTURE(op.error().message);
    CHECK(op.error().message.find(r.says) != std::string::npos);
  }
}
