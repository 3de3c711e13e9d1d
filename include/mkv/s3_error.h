// Error values of mkv's S3 API: each S3 error code, its HTTP status and its standard message.
// The server turns an S3Error into the S3 XML error body in one place; the native API keeps
// mkv/error.h.
#pragma once

#include <boost/system/result.hpp>

#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace mkv {

// The S3 error codes mkv answers with. Adding one breaks the build until s3_code_name(),
// http_status() and the standard message say how it is shown: each switches without a default.
enum class s3errc {
  access_denied,                   // 403: refused, e.g. an expired presigned URL
  authorization_header_malformed,  // 400: the Authorization header cannot be read
  bad_digest,                      // 400: Content-MD5 or x-amz-checksum-* does not match
  bucket_already_owned_by_you,     // 409: CreateBucket of a bucket that exists
  bucket_not_empty,                // 409: DeleteBucket of a bucket with objects
  entity_too_small,                // 400: a multipart part under 5 MiB that is not the last
  incomplete_body,                 // 400: the body ended before its declared length
  internal_error,                  // 500: the index or the volumes failed
  invalid_access_key_id,           // 403: the access key is not in the credentials file
  invalid_argument,                // 400: a parameter or header has a value mkv refuses
  invalid_bucket_name,             // 400: the bucket name breaks the naming rules
  invalid_part,                    // 400: a part named in Complete was not uploaded
  invalid_part_order,              // 400: Complete's parts are not in ascending order
  invalid_range,                   // 416: the Range is outside the object
  invalid_request,                 // 400: the request is not one S3 accepts as sent
  key_too_long,                    // 400: the key is over mkv's length limits
  malformed_xml,                   // 400: a request body is not the XML it should be
  metadata_too_large,              // 400: the x-amz-meta-* headers are over 2 KB
  method_not_allowed,              // 405: the method is not allowed on this resource
  missing_content_length,          // 411: a PUT without a length
  no_such_bucket,                  // 404
  no_such_key,                     // 404
  no_such_upload,                  // 404: the multipart upload is unknown or ended
  not_implemented,                 // 501: an S3 feature mkv does not offer
  precondition_failed,             // 412: If-Match / If-Unmodified-Since does not hold
  request_time_too_skewed,         // 403: the request's time is over 15 minutes from mkv's
  service_unavailable,             // 503: too few volumes, or mkv is stopping
  signature_does_not_match,        // 403: the signature is not the one the secret makes
  x_amz_content_sha256_mismatch,   // 400: the body's SHA-256 is not x-amz-content-sha256
};

// An S3 error code and the message its XML body carries (the standard one when empty).
struct S3Error {
  s3errc code;
  std::string message;

  friend bool operator==(const S3Error&, const S3Error&) = default;
};

// A value of T, or the S3Error that prevented it.
template <class T>
using S3Result = boost::system::result<T, S3Error>;

// Returns the S3 name of code, as the XML <Code> element carries it.
[[nodiscard]] inline std::string_view s3_code_name(s3errc code) {
  switch (code) {
    case s3errc::access_denied: return "AccessDenied";
    case s3errc::authorization_header_malformed: return "AuthorizationHeaderMalformed";
    case s3errc::bad_digest: return "BadDigest";
    case s3errc::bucket_already_owned_by_you: return "BucketAlreadyOwnedByYou";
    case s3errc::bucket_not_empty: return "BucketNotEmpty";
    case s3errc::entity_too_small: return "EntityTooSmall";
    case s3errc::incomplete_body: return "IncompleteBody";
    case s3errc::internal_error: return "InternalError";
    case s3errc::invalid_access_key_id: return "InvalidAccessKeyId";
    case s3errc::invalid_argument: return "InvalidArgument";
    case s3errc::invalid_bucket_name: return "InvalidBucketName";
    case s3errc::invalid_part: return "InvalidPart";
    case s3errc::invalid_part_order: return "InvalidPartOrder";
    case s3errc::invalid_range: return "InvalidRange";
    case s3errc::invalid_request: return "InvalidRequest";
    case s3errc::key_too_long: return "KeyTooLongError";
    case s3errc::malformed_xml: return "MalformedXML";
    case s3errc::metadata_too_large: return "MetadataTooLarge";
    case s3errc::method_not_allowed: return "MethodNotAllowed";
    case s3errc::missing_content_length: return "MissingContentLength";
    case s3errc::no_such_bucket: return "NoSuchBucket";
    case s3errc::no_such_key: return "NoSuchKey";
    case s3errc::no_such_upload: return "NoSuchUpload";
    case s3errc::not_implemented: return "NotImplemented";
    case s3errc::precondition_failed: return "PreconditionFailed";
    case s3errc::request_time_too_skewed: return "RequestTimeTooSkewed";
    case s3errc::service_unavailable: return "ServiceUnavailable";
    case s3errc::signature_does_not_match: return "SignatureDoesNotMatch";
    case s3errc::x_amz_content_sha256_mismatch: return "XAmzContentSHA256Mismatch";
  }
  return "InternalError";  // unreachable: every code is handled above
}

// Returns the HTTP status an S3 error is answered with.
[[nodiscard]] inline unsigned http_status(s3errc code) {
  switch (code) {
    case s3errc::access_denied: return 403;
    case s3errc::authorization_header_malformed: return 400;
    case s3errc::bad_digest: return 400;
    case s3errc::bucket_already_owned_by_you: return 409;
    case s3errc::bucket_not_empty: return 409;
    case s3errc::entity_too_small: return 400;
    case s3errc::incomplete_body: return 400;
    case s3errc::internal_error: return 500;
    case s3errc::invalid_access_key_id: return 403;
    case s3errc::invalid_argument: return 400;
    case s3errc::invalid_bucket_name: return 400;
    case s3errc::invalid_part: return 400;
    case s3errc::invalid_part_order: return 400;
    case s3errc::invalid_range: return 416;
    case s3errc::invalid_request: return 400;
    case s3errc::key_too_long: return 400;
    case s3errc::malformed_xml: return 400;
    case s3errc::metadata_too_large: return 400;
    case s3errc::method_not_allowed: return 405;
    case s3errc::missing_content_length: return 411;
    case s3errc::no_such_bucket: return 404;
    case s3errc::no_such_key: return 404;
    case s3errc::no_such_upload: return 404;
    case s3errc::not_implemented: return 501;
    case s3errc::precondition_failed: return 412;
    case s3errc::request_time_too_skewed: return 403;
    case s3errc::service_unavailable: return 503;
    case s3errc::signature_does_not_match: return 403;
    case s3errc::x_amz_content_sha256_mismatch: return 400;
  }
  return 500;  // unreachable: every code is handled above
}

// Returns the message of an error that carries none of its own.
[[nodiscard]] inline std::string_view standard_message(s3errc code) {
  switch (code) {
    case s3errc::access_denied: return "Access Denied";
    case s3errc::authorization_header_malformed: return "The authorization header is malformed";
    case s3errc::bad_digest: return "The digest you specified did not match what was received";
    case s3errc::bucket_already_owned_by_you: return "The bucket already exists and is yours";
    case s3errc::bucket_not_empty: return "The bucket you tried to delete is not empty";
    case s3errc::entity_too_small:
      return "A part other than the last is smaller than the minimum of 5 MiB";
    case s3errc::incomplete_body: return "The body ended before its declared length";
    case s3errc::internal_error: return "mkv could not complete the request";
    case s3errc::invalid_access_key_id: return "The access key ID is not known to this server";
    case s3errc::invalid_argument: return "Invalid argument";
    case s3errc::invalid_bucket_name: return "The bucket name is not valid";
    case s3errc::invalid_part: return "A part named in the list was not uploaded";
    case s3errc::invalid_part_order: return "The parts are not in ascending order";
    case s3errc::invalid_range: return "The requested range is not satisfiable";
    case s3errc::invalid_request: return "Invalid request";
    case s3errc::key_too_long: return "The key is longer than mkv allows";
    case s3errc::malformed_xml: return "The XML you provided was not well-formed";
    case s3errc::metadata_too_large:
      return "Your metadata headers exceed the maximum allowed metadata size";
    case s3errc::method_not_allowed: return "The method is not allowed against this resource";
    case s3errc::missing_content_length: return "You must provide the Content-Length header";
    case s3errc::no_such_bucket: return "The specified bucket does not exist";
    case s3errc::no_such_key: return "The specified key does not exist";
    case s3errc::no_such_upload: return "The specified multipart upload does not exist";
    case s3errc::not_implemented: return "mkv does not implement this S3 operation";
    case s3errc::precondition_failed: return "A precondition you specified did not hold";
    case s3errc::request_time_too_skewed:
      return "The difference between the request time and the server's time is too large";
    case s3errc::service_unavailable: return "mkv cannot serve this request now";
    case s3errc::signature_does_not_match:
      return "The request signature we calculated does not match the signature you provided";
    case s3errc::x_amz_content_sha256_mismatch:
      return "The body's SHA-256 does not match x-amz-content-sha256";
  }
  return "";  // unreachable: every code is handled above
}

// Returns the error of code with message, or the standard message when message is empty.
[[nodiscard]] inline S3Error s3_error(s3errc code, std::string message = {}) {
  if (message.empty()) message = std::string(standard_message(code));
  return {code, std::move(message)};
}

// Writes the error as "Code: message"; test failures show it.
inline std::ostream& operator<<(std::ostream& os, const S3Error& e) {
  return os << s3_code_name(e.code) << ": " << e.message;
}

// Called by S3Result<T>::value() on an error: throws std::runtime_error with the message.
[[noreturn]] inline void throw_exception_from_error(const S3Error& e,
                                                    const boost::source_location&) {
  throw std::runtime_error(std::string(s3_code_name(e.code)) + ": " + e.message);
}

}  // namespace mkv
