// The bucket operations of the S3 API. A bucket is the first segment of native keys: it exists
// while keys are stored under it (mkv does not remember empty buckets yet), ListBuckets lists
// those segments, and ListObjects pages through the index under "bucket/" (mkv/s3_list.h).
#include "s3/handlers.h"

#include "s3/reply.h"
#include "s3/xml.h"

#include "mkv/list_query.h"
#include "mkv/s3_list.h"
#include "mkv/s3_names.h"

#include <string>
#include <utility>
#include <vector>

namespace mkv {

namespace {

// Returns whether a key is stored under bucket, or the error of its name or of the index.
S3Result<bool> bucket_exists(App& app, std::string_view bucket) {
  auto prefix = bucket_key_prefix(bucket);
  if (!prefix) return prefix.error();
  auto keys = app.index.list(*prefix, {}, 1);
  if (!keys) return s3_error_of(keys.error());
  return !keys->empty();
}

// Returns NoSuchBucket unless a key is stored under bucket.
S3Result<void> require_bucket(App& app, std::string_view bucket) {
  auto exists = bucket_exists(app, bucket);
  if (!exists) return exists.error();
  if (!*exists)
    return s3_error(s3errc::no_such_bucket,
                    "the bucket " + std::string(bucket) + " does not exist (it has no objects)");
  return {};
}

// Returns the buckets: the first segments of the native keys, each found with one index read
// that then seeks past it; created when its first key was written.
S3Result<std::vector<BucketEntry>> buckets(App& app) {
  std::vector<BucketEntry> out;
  std::string from;
  for (;;) {
    auto keys = app.index.list({}, from, 1);
    if (!keys) return s3_error_of(keys.error());
    if (keys->empty()) return out;
    const std::string& key = keys->front();
    const auto slash = key.find('/');
    if (slash == std::string::npos) {  // a native key outside any bucket
      from = key + '\0';
      continue;
    }
    const std::string prefix = key.substr(0, slash + 1);
    auto record = app.index.get(key);
    if (!record) return s3_error_of(record.error());
    out.push_back({key.substr(0, slash), *record ? (*record)->modified : 0});
    auto next = prefix_successor(prefix);
    if (!next) return out;
    from = std::move(*next);
  }
}

S3Result<Reply> list_buckets(S3Request& request) {
  auto found = buckets(request.app);
  if (!found) return found.error();
  return xml_reply(xml_list_buckets(*found, request.auth.credential.access_key));
}

S3Result<Reply> list_objects(S3Request& request) {
  if (auto present = require_bucket(request.app, request.bucket); !present) {
    return present.error();
  }
  auto query = parse_list_objects(request.params);
  if (!query) return query.error();
  App& app = request.app;
  const FetchObjects fetch = [&app](std::string_view prefix, std::string_view from,
                                    std::size_t limit) -> S3Result<std::vector<ListedObject>> {
    auto entries = app.index.scan(from, limit);
    if (!entries) return s3_error_of(entries.error());
    std::vector<ListedObject> out;
    for (auto& entry : *entries) {
      if (!entry.key.starts_with(prefix)) break;
      out.push_back({std::move(entry.key), entry.record.size,
                     entry.record.md5 ? etag_of(*entry.record.md5) : std::string(),
                     entry.record.modified});
    }
    return out;
  };
  auto page = mkv::list_objects(*query, request.bucket, fetch);
  if (!page) return page.error();
  return xml_reply(xml_list_objects(*query, *page, request.bucket));
}

}  // namespace

net::awaitable<S3Result<Reply>> handle_bucket_op(S3Request& request) {
  switch (request.op) {
    case S3Op::list_buckets: co_return list_buckets(request);
    case S3Op::list_objects: co_return list_objects(request);
    case S3Op::head_bucket: {
      if (auto present = require_bucket(request.app, request.bucket); !present) {
        co_return present.error();
      }
      co_return Reply{http::status::ok, 11};
    }
    case S3Op::get_bucket_location: {
      if (auto present = require_bucket(request.app, request.bucket); !present) {
        co_return present.error();
      }
      co_return xml_reply(xml_bucket_location(request.s3.settings.region));
    }
    case S3Op::create_bucket: {
      if (auto name = check_bucket_name(request.bucket); !name) co_return name.error();
      auto exists = bucket_exists(request.app, request.bucket);
      if (!exists) co_return exists.error();
      if (*exists) co_return s3_error(s3errc::bucket_already_owned_by_you);
      co_return s3_error(s3errc::not_implemented,
                         "mkv does not remember empty buckets yet: a bucket exists once an "
                         "object is written into it (PutObject)");
    }
    case S3Op::delete_bucket: {
      auto exists = bucket_exists(request.app, request.bucket);
      if (!exists) co_return exists.error();
      if (*exists) co_return s3_error(s3errc::bucket_not_empty);
      co_return s3_error(s3errc::no_such_bucket);
    }
    default: break;
  }
  co_return s3_error(s3errc::internal_error, "not a bucket operation");
}

}  // namespace mkv
