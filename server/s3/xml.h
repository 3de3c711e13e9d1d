// The XML of mkv's S3 API (pugixml): the documents mkv answers with, including the one place an
// S3Error becomes its <Error> body, and the request bodies it reads (DeleteObjects,
// CompleteMultipartUpload, CreateBucket). pugixml escapes text on output; a request body that is
// not the document it should be is MalformedXML, with what was wrong.
#pragma once

#include "mkv/s3_error.h"
#include "mkv/s3_list.h"
#include "mkv/s3_multipart.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

// Returns the <Error> document of error for the request of resource (its path), tagged with
// request_id.
std::string xml_error(const S3Error& error, std::string_view resource, std::string_view request_id);

// A bucket as ListBuckets shows it.
struct BucketEntry {
  std::string name;
  std::int64_t created = 0;  // Unix seconds
};

// Returns the ListAllMyBucketsResult of buckets, owned by owner (the access key).
std::string xml_list_buckets(std::span<const BucketEntry> buckets, std::string_view owner);

// Returns the ListBucketResult of a ListObjects page (V1 or V2, as request asks) of bucket; keys,
// prefixes and markers URL-encoded when the request asked for encoding-type=url.
std::string xml_list_objects(const ListObjectsRequest& request, const ListObjectsPage& page,
                             std::string_view bucket);

// Returns the LocationConstraint document of GetBucketLocation for region.
std::string xml_bucket_location(std::string_view region);

// Returns the InitiateMultipartUploadResult of a new upload.
std::string xml_initiate_upload(std::string_view bucket, std::string_view key,
                                std::string_view upload_id);

// Returns the CompleteMultipartUploadResult of an upload completed as etag.
std::string xml_complete_upload(std::string_view location, std::string_view bucket,
                                std::string_view key, std::string_view etag);

// A part as ListParts shows it.
struct PartEntry {
  unsigned number = 0;
  std::uint64_t size = 0;
  std::string etag;
  std::int64_t modified = 0;  // Unix seconds
};

// A page of ListParts: the upload it lists, the request's marker and page size, its parts
// (ascending), and where the next page starts when it is truncated.
struct ListPartsPage {
  std::string bucket;
  std::string key;
  std::string upload_id;
  std::string owner;
  unsigned marker = 0;
  std::size_t max_parts = 0;
  std::vector<PartEntry> parts;
  bool truncated = false;
};

// Returns the ListPartsResult of page.
std::string xml_list_parts(const ListPartsPage& page);

// An unfinished upload as ListMultipartUploads shows it.
using UploadEntry = ListedUpload;

// A page of ListMultipartUploads: the request (bucket, prefix, markers, page size), its uploads
// (by key, then upload ID), and whether more follow the last of them.
struct ListUploadsPage {
  std::string bucket;
  std::string owner;
  std::string prefix;
  std::string key_marker;
  std::string upload_id_marker;
  std::size_t max_uploads = 0;
  std::vector<UploadEntry> uploads;
  bool truncated = false;
};

// Returns the ListMultipartUploadsResult of page.
std::string xml_list_uploads(const ListUploadsPage& page);

// Returns document (one of the above) without its XML declaration: what follows the
// declaration a CompleteMultipartUpload sends before its work.
std::string_view after_declaration(std::string_view document);

// The XML declaration every document starts with.
inline constexpr std::string_view xml_declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

// Returns the CopyObjectResult of a copy that made etag at last_modified (Unix seconds).
std::string xml_copy_object(std::string_view etag, std::int64_t last_modified);

// What became of one key of a DeleteObjects request.
struct DeleteOutcome {
  std::string key;
  std::optional<S3Error> error;  // none: deleted (or absent, which S3 counts as deleted)
};

// Returns the DeleteResult of outcomes; quiet leaves out the keys that were deleted.
std::string xml_delete_result(std::span<const DeleteOutcome> outcomes, bool quiet);

// A DeleteObjects request: the keys to delete, and whether only failures are reported.
struct DeleteRequest {
  std::vector<std::string> keys;
  bool quiet = false;
};

// The most keys one DeleteObjects request may name (S3's limit).
inline constexpr std::size_t max_delete_keys = 1000;

// Returns the DeleteObjects request body xml holds, or MalformedXML.
S3Result<DeleteRequest> parse_delete_request(std::string_view xml);

// One part as CompleteMultipartUpload lists it (mkv/s3_multipart.h checks the list).
using CompletePart = ListedPart;

// Returns the parts of a CompleteMultipartUpload body, in the order given, or MalformedXML.
S3Result<std::vector<CompletePart>> parse_complete_request(std::string_view xml);

// Returns the LocationConstraint of a CreateBucket body (empty when the body is empty or names
// none), or MalformedXML.
S3Result<std::string> parse_create_bucket(std::string_view xml);

// Returns the Unix time as S3's XML writes times: "2026-12-01T03:00:00.000Z".
std::string xml_time(std::int64_t unix_seconds);

}  // namespace mkv
