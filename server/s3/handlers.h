// The operations of the S3 API, each a sequence of steps over the native machinery (the index,
// the key locks, the volume client); dispatched by the S3 connection (s3/connection.h).
#pragma once

#include "app.h"
#include "http/reply.h"
#include "http/request_body.h"
#include "s3/early_reply.h"
#include "s3/service.h"
#include "volume/download.h"

#include "mkv/byte_range.h"
#include "mkv/conditions.h"
#include "mkv/s3_error.h"
#include "mkv/s3_route.h"
#include "mkv/sigv4.h"

#include <boost/asio.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// One S3 request, authenticated and routed.
struct S3Request {
  App& app;
  S3Service& s3;
  S3Op op;
  std::string bucket;  // decoded; empty for the service
  std::string key;     // decoded; empty for a bucket
  std::vector<QueryParam> params;
  std::span<const Header> headers;
  const Authenticated& auth;
  RequestBody& body;
  std::string resource;    // the path as sent, for error documents
  std::string request_id;  // x-amz-request-id
  EarlyReply& early;       // for a reply sent before its work is done (CompleteMultipartUpload)

  // Returns the first header named name (any case), or nothing.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
  // Returns the value of the first query parameter named name (decoded), or nothing.
  [[nodiscard]] std::optional<std::string_view> param(std::string_view name) const {
    for (const auto& p : params) {
      if (p.name == name) return p.value;
    }
    return std::nullopt;
  }
};

// A GetObject ready to stream: the reply's status line and fields (with Content-Length), and
// the volume download whose body follows them.
struct ObjectStream {
  Reply head;
  std::unique_ptr<Download> download;
  std::uint64_t length = 0;
};

// Reads the whole (small) request body, or MalformedXML when it is over limit.
net::awaitable<S3Result<std::string>> read_small_body(RequestBody& body, std::size_t limit);

// ListBuckets, HeadBucket, GetBucketLocation, ListObjects (V1, V2), CreateBucket, DeleteBucket.
net::awaitable<S3Result<Reply>> handle_bucket_op(S3Request& request);
// PutObject, CopyObject, HeadObject, DeleteObject, DeleteObjects.
net::awaitable<S3Result<Reply>> handle_object_op(S3Request& request);
// CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts,
// ListMultipartUploads.
net::awaitable<S3Result<Reply>> handle_multipart_op(S3Request& request);
// Streams the request's body to native the way PutObject reads it (plain or aws-chunked, its
// signed SHA-256, Content-MD5 and x-amz-checksum-* checked before its last byte is stored), with
// meta as the record's meta; the reply carries the ETag (and the checksum S3 echoes).
net::awaitable<S3Result<Reply>> put_request_body(S3Request& request, std::string native,
                                                 Conditions conditions, std::string meta);
// Returns a started download of the object at native (or of its range) from the first of its
// copies that answers with it, or ServiceUnavailable saying what each copy answered.
net::awaitable<S3Result<std::unique_ptr<Download>>> open_copy(App& app, const std::string& native,
                                                              const Record& record,
                                                              std::optional<ByteRange> range);
// GetObject: the reply's head and a started download of the object (or of its range) from the
// first of its copies that answers; 304 / 412 / 416 come back as a finished reply in head with
// no download.
net::awaitable<S3Result<ObjectStream>> open_object(S3Request& request);

}  // namespace mkv
