// The object operations of the S3 API: GetObject (streamed through mkv from a copy, with Range
// and conditions), HeadObject (from the index), PutObject (the native PUT of the body as
// s3/s3_body.h reads and checks it: plain or aws-chunked, signed SHA-256, x-amz-checksum-*),
// CopyObject (a PUT whose body is read from the source's copy), DeleteObject and DeleteObjects
// (the native DELETE). An S3 object `k` in bucket `b` is the native key `b/k` (mkv/s3_names.h).
#include "s3/handlers.h"

#include "api/handlers.h"
#include "index/reads.h"
#include "s3/reply.h"
#include "s3/s3_body.h"
#include "s3/xml.h"
#include "volume/download_body.h"

#include "mkv/conditions.h"
#include "mkv/health.h"
#include "mkv/object_meta.h"
#include "mkv/s3_checksum.h"
#include "mkv/s3_names.h"
#include "mkv/s3_put_body.h"
#include "mkv/volume.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mkv {

namespace {

// The largest DeleteObjects body mkv reads (1000 keys of 1024 bytes, escaped, fit easily).
constexpr std::size_t max_delete_body = 4 * 1024 * 1024;

// Returns the record of the object at native, or NoSuchKey.
net::awaitable<S3Result<Record>> record_of(App& app, const std::string& native) {
  auto record = co_await read_record(app.index, native);
  if (!record) co_return s3_error_of(record.error());
  if (!*record) co_return s3_error(s3errc::no_such_key);
  if ((*record)->volumes.empty()) co_return s3_error_of(Error::corrupt_record(native));
  co_return std::move(**record);
}

// Returns the conditions of the request's If-* headers.
S3Result<Conditions> conditions_of(const S3Request& request) {
  auto conditions =
      parse_conditions(request.header("if-match"), request.header("if-none-match"),
                       request.header("if-modified-since"), request.header("if-unmodified-since"));
  if (!conditions) return s3_error_of(conditions.error());
  return std::move(*conditions);
}

// Sets what GetObject and HeadObject say of an object besides its length: its ETag and time,
// the headers stored with it (Content-Type defaults to S3's binary/octet-stream), and those a
// response-* query parameter (e.g. response-content-type) overrides.
void set_object_fields(Reply& reply, const Record& record, const S3Request& request) {
  if (const auto etag = etag_of(record)) reply.set(http::field::etag, *etag);
  if (record.modified > 0) {
    reply.set(http::field::last_modified, format_http_date(record.modified));
  }
  reply.set(http::field::content_type, "binary/octet-stream");
  for (const auto& [name, value] : decode_meta(record.meta)) reply.set(name, value);
  for (const auto& p : request.params) {
    if (const auto header = overridden_header(p.name)) reply.set(*header, p.value);
  }
  reply.set(http::field::accept_ranges, "bytes");
  reply.set("x-amz-request-id", request.request_id);
}

// Returns the reply the conditions ask for instead of the object (304, or 412), or nothing.
std::optional<S3Result<Reply>> answer_conditions(const Conditions& conditions, const Record& record,
                                                 const S3Request& request) {
  if (conditions.empty()) return std::nullopt;
  switch (evaluate(conditions, record, true)) {
    case Verdict::proceed: return std::nullopt;
    case Verdict::not_modified: {
      Reply reply{http::status::not_modified, 11};
      set_object_fields(reply, record, request);
      reply.erase(http::field::content_type);
      return S3Result<Reply>(std::move(reply));
    }
    case Verdict::precondition_failed:
      return S3Result<Reply>(s3_error(s3errc::precondition_failed));
  }
  return std::nullopt;
}

// What GetObject and HeadObject start from: the object's native key and record, and the reply
// the request's conditions ask for instead of the object (304, or 412 as an error), if any.
struct ObjectRead {
  std::string native;
  Record record;
  std::optional<Reply> instead;
};
net::awaitable<S3Result<ObjectRead>> read_object(const S3Request& request) {
  auto native = native_key(request.bucket, request.key);
  if (!native) co_return native.error();
  auto record = co_await record_of(request.app, *native);
  if (!record) co_return record.error();
  auto conditions = conditions_of(request);
  if (!conditions) co_return conditions.error();
  ObjectRead read{std::move(*native), std::move(*record), std::nullopt};
  if (auto answered = answer_conditions(*conditions, read.record, request)) {
    if (!*answered) co_return answered->error();
    read.instead = std::move(**answered);
  }
  co_return read;
}

// Returns how to read this PutObject's body (mkv/s3_put_body.h): aws-chunked or as sent, its
// length, the checksum it must have.
S3Result<PutBodyPlan> put_body_plan(const S3Request& request) {
  const bool empty = !request.body.length() && request.body.done();
  return plan_put_body(request.auth.payload, request.headers,
                       empty ? std::optional<std::uint64_t>(0) : request.body.length());
}

// PutObject: the object's bytes stream to the volumes as put_request_body() says, with the
// headers the object keeps.
net::awaitable<S3Result<Reply>> put_object(S3Request& request) {
  auto native = native_key(request.bucket, request.key);
  if (!native) co_return native.error();
  auto conditions = conditions_of(request);
  if (!conditions) co_return conditions.error();
  auto stored = stored_headers_of(request.headers);
  if (!stored) co_return stored.error();
  co_return co_await put_request_body(request, std::move(*native), std::move(*conditions),
                                      encode_meta(without_aws_chunked(std::move(*stored))));
}

net::awaitable<S3Result<Reply>> head_object(S3Request& request) {
  auto read = co_await read_object(request);
  if (!read) co_return read.error();
  if (read->instead) co_return std::move(*read->instead);
  Reply reply{http::status::ok, 11};
  reply.content_length(read->record.size);
  set_object_fields(reply, read->record, request);
  co_return reply;
}

// Returns the x-amz-copy-source-if-* conditions of a CopyObject (on the source object).
S3Result<Conditions> copy_conditions_of(const S3Request& request) {
  auto conditions = parse_conditions(request.header("x-amz-copy-source-if-match"),
                                     request.header("x-amz-copy-source-if-none-match"),
                                     request.header("x-amz-copy-source-if-modified-since"),
                                     request.header("x-amz-copy-source-if-unmodified-since"));
  if (!conditions) return s3_error_of(conditions.error());
  return std::move(*conditions);
}

// Returns what the copy keeps besides the bytes: the source's headers (the default, COPY) or
// the request's (x-amz-metadata-directive: REPLACE).
S3Result<std::string> copy_meta(const S3Request& request, const Record& source) {
  const auto directive = request.header("x-amz-metadata-directive").value_or("COPY");
  // (The headers only: a multipart object's ETag stays behind, the copy's is its MD5's.)
  if (directive == "COPY") return encode_meta(decode_meta(source.meta));
  if (directive != "REPLACE") {
    return s3_error(s3errc::invalid_argument, "x-amz-metadata-directive must be COPY or REPLACE");
  }
  auto stored = stored_headers_of(request.headers);
  if (!stored) return stored.error();
  return encode_meta(*stored);
}

// CopyObject: the source's bytes stream from one of its copies through mkv to the target's
// placement like a PutObject (checked against the source's MD5 on the way), and never reach
// the client.
net::awaitable<S3Result<Reply>> copy_object(S3Request& request) {
  auto target = native_key(request.bucket, request.key);
  if (!target) co_return target.error();
  auto named = parse_copy_source(request.header("x-amz-copy-source").value_or(""));
  if (!named) co_return named.error();
  auto source = native_key(named->bucket, named->key);
  if (!source) co_return source.error();
  auto record = co_await record_of(request.app, *source);
  if (!record) co_return record.error();
  auto conditions = copy_conditions_of(request);
  if (!conditions) co_return conditions.error();
  if (!conditions->empty() && evaluate(*conditions, *record, true) != Verdict::proceed) {
    co_return s3_error(s3errc::precondition_failed);  // S3 answers 412 for each of them
  }
  auto meta = copy_meta(request, *record);
  if (!meta) co_return meta.error();
  if (*source == *target && !request.header("x-amz-metadata-directive")) {
    co_return s3_error(s3errc::invalid_request,
                       "copying an object onto itself must change its metadata "
                       "(x-amz-metadata-directive: REPLACE)");
  }
  auto download = co_await open_copy(request.app, *source, *record, std::nullopt);
  if (!download) co_return download.error();
  DownloadBody body(**download);
  PutOptions options;
  options.expected_md5 = record->md5;
  options.meta = std::move(*meta);
  auto put = co_await handle_put(request.app, *target, Conditions{}, body, options);
  if (!put) {
    if (put.error().code == errc::bad_digest) {
      co_return s3_error(s3errc::internal_error,
                         "the copy read from " + (*download)->volume().url +
                             " does not match the source's MD5 (run mkv verify --repair)");
    }
    co_return s3_error_of(put.error());
  }
  auto written = co_await record_of(request.app, *target);
  if (!written) co_return written.error();
  Reply reply = xml_reply(xml_copy_object((*put)[http::field::etag], written->modified));
  reply.set("x-amz-request-id", request.request_id);
  co_return reply;
}

// Deletes the object at native; an absent object counts as deleted, as S3 counts it.
net::awaitable<S3Result<void>> delete_native(App& app, std::string native, Conditions conditions) {
  auto removed = co_await handle_delete(app, std::move(native), std::move(conditions));
  if (!removed && removed.error().code != errc::not_found) co_return s3_error_of(removed.error());
  co_return S3Result<void>{};
}

net::awaitable<S3Result<Reply>> delete_object(S3Request& request) {
  Reply reply{http::status::no_content, 11};
  reply.set("x-amz-request-id", request.request_id);
  // A key mkv cannot store cannot exist: deleting it is done already.
  auto native = native_key(request.bucket, request.key);
  if (!native) co_return reply;
  auto conditions = conditions_of(request);
  if (!conditions) co_return conditions.error();
  auto removed = co_await delete_native(request.app, std::move(*native), std::move(*conditions));
  if (!removed) co_return removed.error();
  co_return reply;
}

net::awaitable<S3Result<Reply>> delete_objects(S3Request& request) {
  auto text = co_await read_small_body(request.body, max_delete_body);
  if (!text) co_return text.error();
  if (const auto header = request.header("content-md5")) {
    const auto md5 = parse_content_md5(*header);
    if (!md5) co_return s3_error_of(md5.error());
    if (*md5 != md5_of(*text)) {
      co_return s3_error(s3errc::bad_digest, "Content-MD5 does not match the request body");
    }
  }
  auto parsed = parse_delete_request(*text);
  if (!parsed) co_return parsed.error();
  std::vector<DeleteOutcome> outcomes;
  for (auto& key : parsed->keys) {
    auto native = native_key(request.bucket, key);
    std::optional<S3Error> error;
    if (native) {
      auto removed = co_await delete_native(request.app, std::move(*native), {});
      if (!removed) error = removed.error();
    }
    outcomes.push_back({std::move(key), std::move(error)});
  }
  Reply reply = xml_reply(xml_delete_result(outcomes, parsed->quiet));
  reply.set("x-amz-request-id", request.request_id);
  co_return reply;
}

// Returns the Range header line a volume is asked for range with.
std::string range_field(const ByteRange& range) {
  return "Range: bytes=" + std::to_string(range.first) + '-' + std::to_string(range.last) + "\r\n";
}

}  // namespace

net::awaitable<S3Result<std::string>> read_small_body(RequestBody& body, std::size_t limit) {
  if (auto r = co_await body.continue_if_expected(); !r) co_return s3_error_of(r.error());
  std::string text;
  while (!body.done()) {
    const std::size_t at = text.size();
    if (at >= limit) {
      co_return s3_error(s3errc::malformed_xml,
                         "the request body is over " + std::to_string(limit) + " bytes");
    }
    text.resize(std::min(limit, at + 64 * 1024));
    auto n = co_await body.read(std::span<char>(text.data() + at, text.size() - at));
    if (!n) co_return s3_error_of(n.error());
    text.resize(at + *n);
  }
  co_return text;
}

net::awaitable<S3Result<Reply>> put_request_body(S3Request& request, std::string native,
                                                 Conditions conditions, std::string meta) {
  auto plan = put_body_plan(request);
  if (!plan) co_return plan.error();
  auto options = put_options_of(request.body);
  if (!options) co_return s3_error_of(options.error());
  options->meta = std::move(meta);
  if (request.auth.payload == PayloadMode::sha256) {
    options->expected_sha256 = request.auth.payload_sha256;
  }
  S3Body body(request.body, std::move(*plan), request.auth);
  auto put =
      co_await handle_put(request.app, std::move(native), std::move(conditions), body, *options);
  if (body.failure()) co_return *body.failure();
  if (!put) co_return s3_error_of(put.error());
  Reply reply{http::status::ok, 11};
  reply.set(http::field::etag, (*put)[http::field::etag]);
  if (const auto checksum = body.checksum_header()) reply.set(checksum->first, checksum->second);
  reply.set("x-amz-request-id", request.request_id);
  co_return reply;
}

net::awaitable<S3Result<std::unique_ptr<Download>>> open_copy(App& app, const std::string& native,
                                                              const Record& record,
                                                              std::optional<ByteRange> range) {
  const std::uint64_t length = range ? range->length() : record.size;
  const unsigned wanted = range ? 206 : 200;
  // The copies in the order a GET tries them: the first readable one, then the others.
  const std::size_t first =
      app.volumes.all_up() ? 0 : pick_readable(app.volumes.states(record.volumes));
  std::string failures;
  for (std::size_t n = 0; n < record.volumes.size(); ++n) {
    const std::string& url = record.volumes[(first + n) % record.volumes.size()];
    auto pool = app.volumes.pool(url);
    if (!pool) co_return s3_error_of(pool.error());
    auto download = std::make_unique<Download>(**pool, volume_target((*pool)->volume(), native),
                                               range ? range_field(*range) : "");
    auto status = co_await download->start();
    if (status && *status == wanted && download->length() == length) co_return download;
    failures += failures.empty() ? "" : "; ";
    failures +=
        url + (status ? " answered " + std::to_string(*status) : ": " + status.error().detail);
  }
  // Volumes that cannot give the blob now, like the native API's 502/503: clients retry it.
  co_return s3_error(s3errc::service_unavailable,
                     "no copy of the object could be read now (" + failures + ")");
}

net::awaitable<S3Result<ObjectStream>> open_object(S3Request& request) {
  auto read = co_await read_object(request);
  if (!read) co_return read.error();
  if (read->instead) co_return ObjectStream{std::move(*read->instead), nullptr, 0};
  const std::string& native = read->native;
  const Record& record = read->record;
  auto range = resolve_range(request.header("range"), record.size);
  if (!range) {
    Reply reply = s3_error_reply(range.error(), request.resource, request.request_id);
    reply.set(http::field::content_range, unsatisfied_range(record.size));
    co_return ObjectStream{std::move(reply), nullptr, 0};
  }
  auto download = co_await open_copy(request.app, native, record, *range);
  if (!download) co_return download.error();
  const std::uint64_t length = *range ? (*range)->length() : record.size;
  Reply head{*range ? http::status::partial_content : http::status::ok, 11};
  head.content_length(length);
  set_object_fields(head, record, request);
  if (*range) head.set(http::field::content_range, content_range(**range, record.size));
  co_return ObjectStream{std::move(head), std::move(*download), length};
}

net::awaitable<S3Result<Reply>> handle_object_op(S3Request& request) {
  switch (request.op) {
    case S3Op::put_object: co_return co_await put_object(request);
    case S3Op::head_object: co_return co_await head_object(request);
    case S3Op::delete_object: co_return co_await delete_object(request);
    case S3Op::delete_objects: co_return co_await delete_objects(request);
    case S3Op::copy_object: co_return co_await copy_object(request);
    default: break;
  }
  co_return s3_error(s3errc::internal_error, "not an object operation");
}

}  // namespace mkv
