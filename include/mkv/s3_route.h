// Routing of the S3 API: which S3 operation a path-style request asks for, from its method, its
// bucket and key (the path split by the caller), its query parameters and whether it names a
// copy source. Sub-resources mkv does not serve (acl, tagging, versioning, policy, ...) are
// NotImplemented by name, so a client learns exactly what is missing; a method a resource does
// not take is MethodNotAllowed.
#pragma once

#include "mkv/s3_error.h"
#include "mkv/sigv4_canonical.h"

#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <string_view>

namespace mkv {

enum class S3Op {
  list_buckets,         // GET /
  create_bucket,        // PUT /b
  head_bucket,          // HEAD /b
  delete_bucket,        // DELETE /b
  get_bucket_location,  // GET /b?location
  list_objects,         // GET /b (V1), GET /b?list-type=2 (V2)
  list_uploads,         // GET /b?uploads
  delete_objects,       // POST /b?delete
  put_object,           // PUT /b/k
  copy_object,          // PUT /b/k with x-amz-copy-source
  get_object,           // GET /b/k
  head_object,          // HEAD /b/k
  delete_object,        // DELETE /b/k
  create_upload,        // POST /b/k?uploads
  upload_part,          // PUT /b/k?partNumber=N&uploadId=U
  complete_upload,      // POST /b/k?uploadId=U
  abort_upload,         // DELETE /b/k?uploadId=U
  list_parts,           // GET /b/k?uploadId=U
};

// The sub-resources S3 defines that mkv does not serve: a request naming one is NotImplemented.
inline constexpr std::array<std::string_view, 30> unsupported_subresources = {
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "versioning",
    "versions",
    "website",
    "renameObject",
    "session",
};

// Returns the S3 operation of a request, or NotImplemented / MethodNotAllowed saying why.
// bucket is empty for the service ("/"); key is empty for a bucket request. copy_source is
// whether the request carries x-amz-copy-source.
[[nodiscard]] inline S3Result<S3Op> route_s3(std::string_view method, std::string_view bucket,
                                             std::string_view key,
                                             std::span<const QueryParam> params, bool copy_source) {
  const auto has = [&](std::string_view name) {
    return std::any_of(params.begin(), params.end(),
                       [&](const QueryParam& p) { return p.name == name; });
  };
  for (const auto sub : unsupported_subresources) {
    if (has(sub)) {
      return s3_error(s3errc::not_implemented,
                      "mkv does not implement the S3 sub-resource ?" + std::string(sub));
    }
  }
  const auto not_allowed = [&](std::string_view resource) {
    return s3_error(s3errc::method_not_allowed,
                    std::string(method) + " is not allowed on " + std::string(resource));
  };

  if (bucket.empty()) {
    if (method == "GET") return S3Op::list_buckets;
    return not_allowed("the service (/)");
  }

  if (key.empty()) {
    if (has("location")) {
      if (method == "GET") return S3Op::get_bucket_location;
      return not_allowed("?location");
    }
    if (has("uploads")) {
      if (method == "GET") return S3Op::list_uploads;
      return not_allowed("a bucket's ?uploads");
    }
    if (has("delete")) {
      if (method == "POST") return S3Op::delete_objects;
      return not_allowed("?delete");
    }
    if (method == "GET") return S3Op::list_objects;
    if (method == "HEAD") return S3Op::head_bucket;
    if (method == "PUT") return S3Op::create_bucket;
    if (method == "DELETE") return S3Op::delete_bucket;
    return not_allowed("a bucket");
  }

  if (has("uploads")) {
    if (method == "POST") return S3Op::create_upload;
    return not_allowed("an object's ?uploads");
  }
  if (has("uploadId")) {
    if (method == "PUT" && !has("partNumber")) {
      return s3_error(s3errc::invalid_argument, "UploadPart needs both partNumber and uploadId");
    }
    if (method == "PUT") {
      if (copy_source) {
        return s3_error(s3errc::not_implemented,
                        "mkv does not implement UploadPartCopy (a part copied from an object)");
      }
      return S3Op::upload_part;
    }
    if (method == "POST") return S3Op::complete_upload;
    if (method == "DELETE") return S3Op::abort_upload;
    if (method == "GET") return S3Op::list_parts;
    return not_allowed("a multipart upload");
  }
  if (method == "POST") {
    return s3_error(s3errc::not_implemented,
                    "mkv does not implement POST on an object (browser form uploads)");
  }
  if (method == "PUT") return copy_source ? S3Op::copy_object : S3Op::put_object;
  if (method == "GET") return S3Op::get_object;
  if (method == "HEAD") return S3Op::head_object;
  if (method == "DELETE") return S3Op::delete_object;
  return not_allowed("an object");
}

}  // namespace mkv
