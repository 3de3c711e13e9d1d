// The bucket operations of the S3 API. A bucket is the first segment of native keys: it exists
// while keys are stored under it, and CreateBucket stores one, the bucket's marker
// (mkv/s3_names.h), so that an empty bucket is remembered. ListBuckets lists those segments,
// and ListObjects pages through the index under "bucket/" (mkv/s3_list.h).
#include "s3/handlers.h"

#include "api/handlers.h"
#include "http/body_source.h"
#include "index/reads.h"
#include "s3/reply.h"
#include "s3/xml.h"

#include "mkv/list_query.h"
#include "mkv/object_etag.h"
#include "mkv/s3_list.h"
#include "mkv/s3_names.h"

#include <string>
#include <utility>
#include <vector>

namespace mkv {

namespace {

// The largest CreateBucket body mkv reads (a CreateBucketConfiguration is a few hundred bytes).
constexpr std::size_t max_create_bucket_body = 64 * 1024;

// Returns whether a key is stored under bucket, or the error of its name or of the index.
net::awaitable<S3Result<bool>> bucket_exists(App& app, std::string_view bucket) {
  auto prefix = bucket_key_prefix(bucket);
  if (!prefix) co_return prefix.error();
  auto keys = co_await read_keys(app.index, *prefix, {}, 1);
  if (!keys) co_return s3_error_of(keys.error());
  co_return !keys->empty();
}

// Returns NoSuchBucket unless a key is stored under bucket.
net::awaitable<S3Result<void>> require_bucket(App& app, std::string_view bucket) {
  auto exists = co_await bucket_exists(app, bucket);
  if (!exists) co_return exists.error();
  if (!*exists)
    co_return s3_error(s3errc::no_such_bucket,
                       "the bucket " + std::string(bucket) + " does not exist (it has no objects)");
  co_return S3Result<void>{};
}

// Returns the buckets: the first segments of the native keys, each found with one index read
// that then seeks past it; created when its first key was written.
net::awaitable<S3Result<std::vector<BucketEntry>>> buckets(App& app) {
  std::vector<BucketEntry> out;
  std::string from;
  for (;;) {
    auto keys = co_await read_keys(app.index, {}, from, 1);
    if (!keys) co_return s3_error_of(keys.error());
    if (keys->empty()) co_return out;
    const std::string& key = keys->front();
    const auto slash = key.find('/');
    if (slash == std::string::npos) {  // a native key outside any bucket
      from = key + '\0';
      continue;
    }
    const std::string prefix = key.substr(0, slash + 1);
    if (key.starts_with('.')) {  // mkv's own area (unfinished multipart uploads): no bucket
      auto next = prefix_successor(prefix);
      if (!next) co_return out;
      from = std::move(*next);
      continue;
    }
    auto record = co_await read_record(app.index, key);
    if (!record) co_return s3_error_of(record.error());
    out.push_back({key.substr(0, slash), *record ? (*record)->modified : 0});
    auto next = prefix_successor(prefix);
    if (!next) co_return out;
    from = std::move(*next);
  }
}

net::awaitable<S3Result<Reply>> list_buckets(S3Request& request) {
  auto found = co_await buckets(request.app);
  if (!found) co_return found.error();
  co_return xml_reply(xml_list_buckets(*found, request.auth.credential.access_key));
}

// ListObjects: the page mkv::list_objects() would make, its reads of the index awaited
// (ObjectListing).
net::awaitable<S3Result<Reply>> list_objects(S3Request& request) {
  if (auto present = co_await require_bucket(request.app, request.bucket); !present) {
    co_return present.error();
  }
  auto query = parse_list_objects(request.params);
  if (!query) co_return query.error();
  auto listing = ObjectListing::start(*query, request.bucket);
  if (!listing) co_return listing.error();
  while (const auto read = listing->next()) {
    auto entries = co_await read_entries(request.app.index, read->from, read->limit);
    if (!entries) co_return s3_error_of(entries.error());
    std::vector<ListedObject> batch;
    for (auto& entry : *entries) {
      if (!entry.key.starts_with(read->prefix)) break;
      batch.push_back({std::move(entry.key), entry.record.size,
                       etag_of(entry.record).value_or(std::string()), entry.record.modified});
    }
    if (auto taken = listing->take(std::move(batch)); !taken) co_return taken.error();
  }
  co_return xml_reply(xml_list_objects(*query, std::move(*listing).finish(), request.bucket));
}

// CreateBucket: a new bucket is remembered by its marker, an empty blob (bucket_marker_key),
// written create-only like any PutObject.
net::awaitable<S3Result<Reply>> create_bucket(S3Request& request) {
  if (auto name = check_bucket_name(request.bucket); !name) co_return name.error();
  auto body = co_await read_small_body(request.body, max_create_bucket_body);
  if (!body) co_return body.error();
  auto constraint = parse_create_bucket(*body);
  if (!constraint) co_return constraint.error();
  const std::string& region = request.s3.settings.region;
  if (!constraint->empty() && *constraint != region) {
    co_return s3_error(s3errc::invalid_argument,
                       "this server's region is " + region + ", not " + *constraint);
  }
  auto exists = co_await bucket_exists(request.app, request.bucket);
  if (!exists) co_return exists.error();
  if (*exists) co_return s3_error(s3errc::bucket_already_owned_by_you);
  Conditions create_only;
  create_only.if_none_match = TagList{true, {}};
  BytesBody empty("");
  const PutOptions options;
  auto put = co_await handle_put(request.app, bucket_marker_key(request.bucket),
                                 std::move(create_only), empty, options);
  if (!put) {
    if (put.error().code == errc::precondition_failed) {  // created meanwhile
      co_return s3_error(s3errc::bucket_already_owned_by_you);
    }
    co_return s3_error_of(put.error());
  }
  Reply reply{http::status::ok, 11};
  reply.set(http::field::location, "/" + request.bucket);
  co_return reply;
}

// DeleteBucket: only an empty bucket, which then loses its marker (an implicit bucket, one
// that holds no marker, has nothing left to delete once it is empty: it is gone already).
net::awaitable<S3Result<Reply>> delete_bucket(S3Request& request) {
  auto prefix = bucket_key_prefix(request.bucket);
  if (!prefix) co_return prefix.error();
  auto keys = co_await read_keys(request.app.index, *prefix, {}, 2);
  if (!keys) co_return s3_error_of(keys.error());
  const std::string marker = bucket_marker_key(request.bucket);
  if (keys->empty()) co_return s3_error(s3errc::no_such_bucket);
  if (keys->size() > 1 || keys->front() != marker) {
    co_return s3_error(s3errc::bucket_not_empty);
  }
  auto removed = co_await handle_delete(request.app, marker, Conditions{});
  if (!removed && removed.error().code != errc::not_found) {
    co_return s3_error_of(removed.error());
  }
  Reply reply{http::status::no_content, 11};
  co_return reply;
}

}  // namespace

net::awaitable<S3Result<Reply>> handle_bucket_op(S3Request& request) {
  switch (request.op) {
    case S3Op::list_buckets: co_return co_await list_buckets(request);
    case S3Op::list_objects: co_return co_await list_objects(request);
    case S3Op::head_bucket: {
      if (auto present = co_await require_bucket(request.app, request.bucket); !present) {
        co_return present.error();
      }
      co_return Reply{http::status::ok, 11};
    }
    case S3Op::get_bucket_location: {
      if (auto present = co_await require_bucket(request.app, request.bucket); !present) {
        co_return present.error();
      }
      co_return xml_reply(xml_bucket_location(request.s3.settings.region));
    }
    case S3Op::create_bucket: co_return co_await create_bucket(request);
    case S3Op::delete_bucket: co_return co_await delete_bucket(request);
    default: break;
  }
  co_return s3_error(s3errc::internal_error, "not a bucket operation");
}

}  // namespace mkv
