// Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload, ListParts and ListMultipartUploads over the index and the native PUT and
// DELETE. An upload and its parts are blobs under mkv's own keys (mkv/s3_multipart.h says
// where); Complete concatenates the parts it lists into one blob at the object's key, so the
// native 302 GET reads it like any other.
#include "s3/handlers.h"

#include "api/handlers.h"
#include "index/reads.h"
#include "s3/parts_body.h"
#include "s3/reply.h"
#include "s3/uploads.h"
#include "s3/xml.h"

#include "mkv/object_etag.h"
#include "mkv/object_meta.h"
#include "mkv/s3_multipart.h"
#include "mkv/s3_names.h"

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace mkv {

namespace {

// The largest CompleteMultipartUpload body mkv reads (10000 parts listed take about 1 MB).
constexpr std::size_t max_complete_body = 4 * 1024 * 1024;

S3Error no_such_upload(std::string_view id) {
  return s3_error(s3errc::no_such_upload,
                  "there is no unfinished upload " + std::string(id) +
                      " of this key (it was completed, aborted or expired, or never made)");
}

// An upload as its record holds it.
struct Upload {
  std::string id;
  UploadMeta meta;
  Record record;
};

// Returns the request's upload (its uploadId, in its bucket, of its key), or NoSuchUpload.
net::awaitable<S3Result<Upload>> upload_of(const S3Request& request) {
  const std::string id(request.param("uploadId").value_or(""));
  if (!is_upload_id(id)) co_return no_such_upload(id);
  const std::string key = upload_key(request.bucket, id);
  auto record = co_await read_record(request.app.index, key);
  if (!record) co_return s3_error_of(record.error());
  if (!*record) co_return no_such_upload(id);
  auto meta = decode_upload_meta((*record)->meta);
  if (!meta || meta->key != request.key) co_return no_such_upload(id);
  co_return Upload{id, std::move(*meta), std::move(**record)};
}

// Returns a new upload ID, from the system's random device.
std::string new_upload_id() {
  std::random_device random;
  std::array<std::uint8_t, upload_id_random_bytes> bytes{};
  for (auto& byte : bytes) byte = static_cast<std::uint8_t>(random());
  return upload_id_from(bytes);
}

net::awaitable<S3Result<Reply>> create_upload(S3Request& request) {
  if (auto native = native_key(request.bucket, request.key); !native) co_return native.error();
  auto stored = stored_headers_of(request.headers);
  if (!stored) co_return stored.error();
  const std::string id = new_upload_id();
  const std::string text = encode_upload_meta({request.key, encode_meta(*stored)});
  BytesBody empty("");
  PutOptions options;
  options.meta = text;
  auto put = co_await handle_put(request.app, upload_key(request.bucket, id), Conditions{}, empty,
                                 options);
  if (!put) co_return s3_error_of(put.error());
  Reply reply = xml_reply(xml_initiate_upload(request.bucket, request.key, id));
  reply.set("x-amz-request-id", request.request_id);
  co_return reply;
}

net::awaitable<S3Result<Reply>> upload_part(S3Request& request) {
  auto number = parse_part_number(request.param("partNumber").value_or(""));
  if (!number) co_return number.error();
  auto upload = co_await upload_of(request);
  if (!upload) co_return upload.error();
  co_return co_await put_request_body(request, part_key(request.bucket, upload->id, *number),
                                      Conditions{}, std::string());
}

// Returns the parts a Complete concatenates, in order, as the index records them (parts, as
// parts_of() reads them, ascend by number; the plan names only parts among them).
std::vector<Entry> chosen_parts(const CompletePlan& plan,
                                const std::vector<std::pair<unsigned, Entry>>& parts) {
  std::vector<Entry> chosen;
  for (const UploadedPart& part : plan.parts) {
    const auto it = std::lower_bound(
        parts.begin(), parts.end(), part.number,
        [](const std::pair<unsigned, Entry>& p, unsigned number) { return p.first < number; });
    chosen.push_back(it->second);
  }
  return chosen;
}

// Returns whether another Complete of the same upload finished while this one ran (its parts
// then vanish under this one): the upload is gone and the key holds the object this one makes.
net::awaitable<bool> completed_elsewhere(App& app, std::string_view bucket, std::string_view id,
                                         const std::string& native, const std::string& etag) {
  const std::string key = upload_key(bucket, id);
  auto upload = co_await read_record(app.index, key);
  if (!upload || upload->has_value()) co_return false;
  auto record = co_await read_record(app.index, native);
  co_return record && record->has_value() && etag_of(**record) == etag;
}

// Returns the URL of the request's object, as CompleteMultipartUploadResult's Location.
std::string location_of(const S3Request& request) {
  const std::string host(request.header("host").value_or("localhost"));
  return "http://" + host + "/" + request.bucket + "/" + request.key;
}

// Complete: checks the part list (answered as an error before anything is sent), then sends
// 200 and the XML declaration at once and concatenates the parts into the object, keeping the
// client waiting with spaces; the result (or the <Error> it stopped with) ends the 200's body.
// Once the object is written, the upload and its parts are deleted. Two Completes of one upload
// at once both answer the object when the first one's clean-up cuts the second short.
net::awaitable<S3Result<Reply>> complete_upload(S3Request& request) {
  auto native = native_key(request.bucket, request.key);
  if (!native) co_return native.error();
  auto upload = co_await upload_of(request);
  if (!upload) co_return upload.error();
  auto text = co_await read_small_body(request.body, max_complete_body);
  if (!text) co_return text.error();
  auto listed = parse_complete_request(*text);
  if (!listed) co_return listed.error();
  auto parts = co_await parts_of(request.app, request.bucket, upload->id);
  if (!parts) co_return parts.error();
  std::vector<UploadedPart> uploaded;
  for (const auto& [number, entry] : *parts) {
    if (!entry.record.md5) {
      co_return s3_error(s3errc::internal_error, "part " + std::to_string(number) +
                                                     " has no recorded MD5 (index rebuilt?)");
    }
    uploaded.push_back({number, entry.record.size, *entry.record.md5});
  }
  auto plan = plan_complete(*listed, uploaded);
  if (!plan) co_return plan.error();

  Reply head{http::status::ok, 11};
  head.set(http::field::content_type, "application/xml");
  head.set("x-amz-request-id", request.request_id);
  co_await request.early.start(std::move(head));
  co_await request.early.send(xml_declaration);

  PartsBody body(request.app, chosen_parts(*plan, *parts), plan->size, request.early);
  PutOptions options;
  options.meta = meta_with_etag(upload->meta.meta, plan->etag);
  auto put = co_await handle_put(request.app, *native, Conditions{}, body, options);
  std::string result;
  bool elsewhere = false;
  if (!put) {
    elsewhere =
        co_await completed_elsewhere(request.app, request.bucket, upload->id, *native, plan->etag);
  }
  if (!put && !elsewhere) {
    const S3Error error = body.failure() ? *body.failure() : s3_error_of(put.error());
    result = xml_error(error, request.resource, request.request_id);
  } else if (!put) {
    result = xml_complete_upload(location_of(request), request.bucket, request.key, plan->etag);
  } else if (auto removed = co_await remove_upload(request.app, request.bucket, upload->id);
             !removed) {
    result = xml_error(removed.error(), request.resource, request.request_id);
  } else {
    result = xml_complete_upload(location_of(request), request.bucket, request.key, plan->etag);
  }
  co_await request.early.send(after_declaration(result));
  co_await request.early.finish();
  co_return Reply{http::status::ok, 11};
}

net::awaitable<S3Result<Reply>> abort_upload(S3Request& request) {
  auto upload = co_await upload_of(request);
  if (!upload) co_return upload.error();
  if (auto removed = co_await remove_upload(request.app, request.bucket, upload->id); !removed) {
    co_return removed.error();
  }
  Reply reply{http::status::no_content, 11};
  reply.set("x-amz-request-id", request.request_id);
  co_return reply;
}

net::awaitable<S3Result<Reply>> list_parts(S3Request& request) {
  auto upload = co_await upload_of(request);
  if (!upload) co_return upload.error();
  auto max_parts = parse_page_size(request.param("max-parts"), "max-parts");
  if (!max_parts) co_return max_parts.error();
  auto marker = parse_part_marker(request.param("part-number-marker"));
  if (!marker) co_return marker.error();
  ListPartsPage page;
  page.bucket = request.bucket;
  page.key = request.key;
  page.upload_id = upload->id;
  page.owner = request.auth.credential.access_key;
  page.marker = *marker;
  page.max_parts = *max_parts;
  const std::string prefix = parts_prefix(request.bucket, upload->id);
  auto scanned = co_await scan_prefix(
      request.app, prefix, part_key(request.bucket, upload->id, *marker + 1), [&](Entry entry) {
        const auto number = part_number_of(std::string_view(entry.key).substr(prefix.size()));
        if (!number || *number <= *marker) return true;
        if (page.parts.size() == page.max_parts) {
          page.truncated = true;
          return false;
        }
        page.parts.push_back({*number, entry.record.size, etag_of(entry.record).value_or(""),
                              entry.record.modified});
        return true;
      });
  if (!scanned) co_return scanned.error();
  Reply reply = xml_reply(xml_list_parts(page));
  reply.set("x-amz-request-id", request.request_id);
  co_return reply;
}

// ListMultipartUploads: the bucket's unfinished uploads (all of them are read to sort them: they
// are few), paged by page_uploads().
net::awaitable<S3Result<Reply>> list_uploads(S3Request& request) {
  if (request.param("delimiter").value_or("") != "") {
    co_return s3_error(s3errc::not_implemented,
                       "mkv does not implement ListMultipartUploads with a delimiter");
  }
  auto max_uploads = parse_page_size(request.param("max-uploads"), "max-uploads");
  if (!max_uploads) co_return max_uploads.error();
  ListUploadsPage page;
  page.bucket = request.bucket;
  page.owner = request.auth.credential.access_key;
  page.prefix = request.param("prefix").value_or("");
  page.key_marker = request.param("key-marker").value_or("");
  page.upload_id_marker = request.param("upload-id-marker").value_or("");
  page.max_uploads = *max_uploads;
  const std::string prefix = uploads_prefix(request.bucket);
  std::vector<ListedUpload> uploads;
  auto scanned = co_await scan_prefix(request.app, prefix, prefix, [&](Entry entry) {
    if (auto meta = decode_upload_meta(entry.record.meta)) {
      uploads.push_back(
          {std::move(meta->key), entry.key.substr(prefix.size()), entry.record.modified});
    }
    return true;
  });
  if (!scanned) co_return scanned.error();
  auto listed = page_uploads(std::move(uploads), page.prefix, page.key_marker,
                             page.upload_id_marker, page.max_uploads);
  page.uploads = std::move(listed.uploads);
  page.truncated = listed.truncated;
  Reply reply = xml_reply(xml_list_uploads(page));
  reply.set("x-amz-request-id", request.request_id);
  co_return reply;
}

}  // namespace

net::awaitable<S3Result<Reply>> handle_multipart_op(S3Request& request) {
  switch (request.op) {
    case S3Op::create_upload: co_return co_await create_upload(request);
    case S3Op::upload_part: co_return co_await upload_part(request);
    case S3Op::complete_upload: co_return co_await complete_upload(request);
    case S3Op::abort_upload: co_return co_await abort_upload(request);
    case S3Op::list_parts: co_return co_await list_parts(request);
    case S3Op::list_uploads: co_return co_await list_uploads(request);
    default: break;
  }
  co_return s3_error(s3errc::internal_error, "not a multipart operation");
}

}  // namespace mkv
