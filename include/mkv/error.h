// Error values of the mkv core: each error's code, its exact message text and its HTTP status.
#pragma once

#include <boost/system/result.hpp>

#include <cstddef>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>

namespace mkv {

// Every way an operation can fail, named by what went wrong. Adding a code here breaks the build
// until http_status() and message() say how it is shown: both switch without a default.
enum class errc {
  not_found,              // the key is not in the index
  corrupt_record,         // the index holds the key with no volumes
  database,               // the index backend (or a file it keeps beside it) failed
  volume_write_failed,    // a PUT could not be written to every placement volume
  volume_request_failed,  // a request to a volume failed: unreachable, timed out, or refused
  malformed_listing,      // a volume's directory listing (nginx autoindex) could not be read
  not_enough_volumes,     // fewer volumes are configured than the replication factor
  invalid_volume_url,     // a configured volume URL is not usable
  invalid_key,            // the request path is not an acceptable key
  invalid_query,          // the list query string is malformed
  key_conflict,           // key-as-path: the key is a path prefix of another key or the reverse
  method_not_allowed,     // the method is not served on this target
  bad_request,            // the HTTP request itself is malformed
  shutting_down,          // the server is stopping and takes no new requests
  bad_digest,             // a PUT's body does not have the MD5 its Content-MD5 names
  invalid_condition,      // an If-Match or If-None-Match header is not an entity-tag list
  precondition_failed,    // a conditional request's condition does not hold
  job_running,            // an online job was asked for while another one runs
  payload_hash_mismatch,  // an S3 PUT's body does not have the SHA-256 its signature covers
};

// An error code plus the detail its message needs.
struct Error {
  errc code;
  std::string detail;

  static Error not_found() { return {errc::not_found, {}}; }
  static Error corrupt_record(std::string key) { return {errc::corrupt_record, std::move(key)}; }
  static Error database(std::string detail) { return {errc::database, std::move(detail)}; }
  static Error volume_write_failed(std::string detail = {}) {
    return {errc::volume_write_failed, std::move(detail)};
  }
  static Error volume_request_failed(std::string detail) {
    return {errc::volume_request_failed, std::move(detail)};
  }
  static Error malformed_listing(std::string detail) {
    return {errc::malformed_listing, std::move(detail)};
  }
  static Error not_enough_volumes(std::size_t need, std::size_t have) {
    return {errc::not_enough_volumes, std::to_string(need) + ' ' + std::to_string(have)};
  }
  static Error invalid_volume_url(std::string detail) {
    return {errc::invalid_volume_url, std::move(detail)};
  }
  static Error invalid_key(std::string reason) { return {errc::invalid_key, std::move(reason)}; }
  static Error invalid_query(std::string reason) {
    return {errc::invalid_query, std::move(reason)};
  }
  static Error key_conflict(std::string detail) { return {errc::key_conflict, std::move(detail)}; }
  // allow: the methods the target does serve, as the Allow header lists them.
  static Error method_not_allowed(std::string allow) {
    return {errc::method_not_allowed, std::move(allow)};
  }
  static Error bad_request(std::string detail) { return {errc::bad_request, std::move(detail)}; }
  static Error shutting_down() { return {errc::shutting_down, {}}; }
  static Error bad_digest(std::string detail) { return {errc::bad_digest, std::move(detail)}; }
  static Error invalid_condition(std::string detail) {
    return {errc::invalid_condition, std::move(detail)};
  }
  static Error precondition_failed() { return {errc::precondition_failed, {}}; }
  static Error job_running(std::string job) { return {errc::job_running, std::move(job)}; }
  static Error payload_hash_mismatch(std::string detail) {
    return {errc::payload_hash_mismatch, std::move(detail)};
  }

  friend bool operator==(const Error&, const Error&) = default;
};

// A value of T, or the Error that prevented it.
template <class T>
using Result = boost::system::result<T, Error>;

// Returns the HTTP status an error is answered with.
[[nodiscard]] inline unsigned http_status(errc code) {
  switch (code) {
    case errc::not_found: return 404;
    case errc::corrupt_record: return 500;
    case errc::database: return 500;
    case errc::volume_write_failed: return 502;
    case errc::volume_request_failed: return 502;
    case errc::malformed_listing: return 502;
    case errc::not_enough_volumes: return 503;
    case errc::invalid_volume_url: return 500;
    case errc::invalid_key: return 400;
    case errc::invalid_query: return 400;
    case errc::key_conflict: return 409;
    case errc::method_not_allowed: return 405;
    case errc::bad_request: return 400;
    case errc::shutting_down: return 503;
    case errc::bad_digest: return 400;
    case errc::invalid_condition: return 400;
    case errc::precondition_failed: return 412;
    case errc::job_running: return 409;
    case errc::payload_hash_mismatch: return 400;
  }
  return 500;  // unreachable: every code is handled above
}

// Returns the plain-text message a client sees for an error.
[[nodiscard]] inline std::string message(const Error& e) {
  switch (e.code) {
    case errc::not_found: return "not found";
    case errc::corrupt_record: return "corrupt record for key " + e.detail + ": no volumes";
    case errc::database: return "database error: " + e.detail;
    case errc::volume_write_failed: return "not all volume writes succeeded";
    case errc::volume_request_failed: return "volume request failed: " + e.detail;
    case errc::malformed_listing: return "malformed volume listing: " + e.detail;
    case errc::not_enough_volumes: {
      const auto space = e.detail.find(' ');
      return "need " + e.detail.substr(0, space) + " volumes but only " +
             e.detail.substr(space + 1) + " available";
    }
    case errc::invalid_volume_url: return "invalid volume URL: " + e.detail;
    case errc::invalid_key: return "invalid key: " + e.detail;
    case errc::invalid_query: return "invalid query: " + e.detail;
    case errc::key_conflict: return "key conflict: " + e.detail;
    case errc::method_not_allowed: return "method not allowed";
    case errc::bad_request: return "bad request: " + e.detail;
    case errc::shutting_down: return "server is shutting down";
    case errc::bad_digest: return "bad digest: " + e.detail;
    case errc::invalid_condition: return "invalid condition: " + e.detail;
    case errc::precondition_failed: return "precondition failed";
    case errc::job_running:
      return "busy: a " + e.detail + " job is running on this server; wait for it to end";
    case errc::payload_hash_mismatch: return "payload hash mismatch: " + e.detail;
  }
  return "internal error";  // unreachable: every code is handled above
}

// Writes the error's message; test failures show it.
inline std::ostream& operator<<(std::ostream& os, const Error& e) { return os << message(e); }

// Called by Result<T>::value() on an error: throws std::runtime_error with the message.
[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(message(e));
}

}  // namespace mkv
