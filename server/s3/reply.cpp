// Replies of the S3 API (see reply.h).
#include "s3/reply.h"

#include "s3/xml.h"

#include "mkv/s3_names.h"

#include <utility>

namespace mkv {

S3Error s3_error_of(const Error& error) {
  switch (error.code) {
    case errc::not_found: return s3_error(s3errc::no_such_key);
    case errc::key_conflict: return key_conflict_error(error.detail);
    case errc::invalid_key: return s3_error(s3errc::invalid_argument, message(error));
    case errc::invalid_query: return s3_error(s3errc::invalid_argument, message(error));
    case errc::invalid_condition: return s3_error(s3errc::invalid_argument, message(error));
    case errc::bad_request: return s3_error(s3errc::invalid_request, message(error));
    case errc::bad_digest: return s3_error(s3errc::bad_digest, message(error));
    case errc::payload_hash_mismatch:
      return s3_error(s3errc::x_amz_content_sha256_mismatch, message(error));
    case errc::precondition_failed: return s3_error(s3errc::precondition_failed);
    case errc::method_not_allowed: return s3_error(s3errc::method_not_allowed);
    // A volume that cannot take or give a blob is down or overloaded for now: 503, which every
    // S3 client retries with backoff.
    case errc::volume_write_failed:
    case errc::volume_request_failed:
    case errc::not_enough_volumes:
    case errc::shutting_down:
    case errc::job_running: return s3_error(s3errc::service_unavailable, message(error));
    case errc::corrupt_record:
    case errc::database:
    case errc::malformed_listing:
    case errc::invalid_volume_url: return s3_error(s3errc::internal_error, message(error));
  }
  return s3_error(s3errc::internal_error, message(error));  // unreachable: every code is above
}

Reply s3_error_reply(const S3Error& error, std::string_view resource, std::string_view request_id) {
  Reply reply{static_cast<http::status>(http_status(error.code)), 11};
  reply.set(http::field::content_type, "application/xml");
  reply.set("x-amz-request-id", request_id);
  reply.body() = xml_error(error, resource, request_id);
  return reply;
}

Reply xml_reply(std::string xml) {
  Reply reply{http::status::ok, 11};
  reply.set(http::field::content_type, "application/xml");
  reply.body() = std::move(xml);
  return reply;
}

}  // namespace mkv
