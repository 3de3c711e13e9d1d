// Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload, ListParts and ListMultipartUploads over the index and the native PUT and
// DELETE. An upload and its parts are blobs under mkv's own keys (mkv/s3_multipart.h says
// where); Complete concatenates the parts it lists into one blob at the object's key, so the
// native 302 GET reads it like any other.
#include "s3/handlers.h"

#include "api/handlers.h"
#include "s3/parts_body.h"
#include "s3/reply.h"
#include "s3/xml.h"
#include "volume/client.h"

#include "mkv/object_etag.h"
#include "mkv/object_meta.h"
#include "mkv/s3_multipart.h"
#include "mkv/s3_names.h"
#include "mkv/volume.h"

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace mkv {

namespace {

// The largest CompleteMultipartUpload body mkv reads (10000 parts listed take about 1 MB).
constexpr std::size_t max_complete_body = 4 * 1024 * 1024;
// How many index entries one read of a listing takes.
constexpr std::size_t scan_page = 1000;

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
S3Result<Upload> upload_of(const S3Request& request) {
  const std::string id(request.param("uploadId").value_or(""));
  if (!is_upload_id(id)) return no_such_upload(id);
  auto record = request.app.index.get(upload_key(request.bucket, id));
  if (!record) return s3_error_of(record.error());
  if (!*record) return no_such_upload(id);
  auto meta = decode_upload_meta((*record)->meta);
  if (!meta || meta->key != request.key) return no_such_upload(id);
  return Upload{id, std::move(*meta), std::move(**record)};
}

// Calls visit(entry) for every index entry under prefix, in key order, a page at a time (so
// memory does not grow with their number); stops early when visit returns false.
template <typename Visit>
S3Result<void> scan_prefix(App& app, const std::string& prefix, std::string from, Visit visit) {
  if (from < prefix) from = prefix;
  for (;;) {
    auto entries = app.index.scan(from, scan_page);
    if (!entries) return s3_error_of(entries.error());
    for (auto& entry : *entries) {
      if (!entry.key.starts_with(prefix)) return {};
      from = entry.key + '\0';
      if (!visit(std::move(entry))) return {};
    }
    if (entries->size() < scan_page) return {};
  }
}

// Returns the parts of an upload as the index records them: each part's number and entry.
S3Result<std::vector<std::pair<unsigned, Entry>>> parts_of(App& app, std::string_view bucket,
                                                           std::string_view id) {
  const std::string prefix = parts_prefix(bucket, id);
  std::vector<std::pair<unsigned, Entry>> parts;
  auto scanned = scan_prefix(app, prefix, prefix, [&](Entry entry) {
    if (const auto number = part_number_of(std::string_view(entry.key).substr(prefix.size()))) {
      parts.emplace_back(*number, std::move(entry));
    }
    return true;
  });
  if (!scanned) return scanned.error();
  return parts;
}

// Deletes a key, counting an absent one as deleted.
net::awaitable<S3Result<void>> remove_key(App& app, std::string key) {
  auto removed = co_await handle_delete(app, std::move(key), Conditions{});
  if (!removed && removed.error().code != errc::not_found) co_return s3_error_of(removed.error());
  co_return S3Result<void>{};
}

// Deletes an upload: its record first (so it is gone for every request at once), then its
// parts, then (best effort) the parts' directory on each volume that held one, which nginx
// leaves behind empty. A part left behind (a failed delete, an UploadPart racing the abort) is
// removed by the expiry sweep, as a part whose upload is gone.
net::awaitable<S3Result<void>> remove_upload(App& app, std::string_view bucket,
                                             std::string_view id) {
  if (auto removed = co_await remove_key(app, upload_key(bucket, id)); !removed) {
    co_return removed.error();
  }
  auto parts = parts_of(app, bucket, id);
  if (!parts) co_return parts.error();
  std::vector<std::string> volumes;
  for (auto& [number, entry] : *parts) {
    volumes.insert(volumes.end(), entry.record.volumes.begin(), entry.record.volumes.end());
    if (auto removed = co_await remove_key(app, std::move(entry.key)); !removed) {
      co_return removed.error();
    }
  }
  std::sort(volumes.begin(), volumes.end());
  volumes.erase(std::unique(volumes.begin(), volumes.end()), volumes.end());
  std::string directory = parts_prefix(bucket, id);
  directory.pop_back();  // the directory's key, without its '/'
  for (const auto& url : volumes) {
    if (auto pool = app.volumes.pool(url)) {
      (void)co_await volume_delete(**pool, volume_directory_target((*pool)->volume(), directory));
    }
  }
  co_return S3Result<void>{};
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
  auto upload = upload_of(request);
  if (!upload) co_return upload.error();
  co_return co_await put_request_body(request, part_key(request.bucket, upload->id, *number),
                                      Conditions{}, std::string());
}

// Returns the parts a Complete concatenates, in order, as the index records them.
std::vector<Entry> chosen_parts(const CompletePlan& plan,
                                std::vector<std::pair<unsigned, Entry>>& parts) {
  std::vector<Entry> chosen;
  for (const UploadedPart& part : plan.parts) {
    const auto it = std::find_if(parts.begin(), parts.end(),
                                 [&](const auto& p) { return p.first == part.number; });
    chosen.push_back(it->second);
  }
  return chosen;
}

// Complete: checks the part list (answered as an error before anything is sent), then sends
// 200 and the XML declaration at once and concatenates the parts into the object, keeping the
// client waiting with spaces; the result (or the <Error> it stopped with) ends the 200's body.
// Once the object is written, the upload and its parts are deleted.
net::awaitable<S3Result<Reply>> complete_upload(S3Request& request) {
  auto native = native_key(request.bucket, request.key);
  if (!native) co_return native.error();
  auto upload = upload_of(request);
  if (!upload) co_return upload.error();
  auto text = co_await read_small_body(request.body, max_complete_body);
  if (!text) co_return text.error();
  auto listed = parse_complete_request(*text);
  if (!listed) co_return listed.error();
  auto parts = parts_of(request.app, request.bucket, upload->id);
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
  if (!put) {
    const S3Error error = body.failure() ? *body.failure() : s3_error_of(put.error());
    result = xml_error(error, request.resource, request.request_id);
  } else if (auto removed = co_await remove_upload(request.app, request.bucket, upload->id);
             !removed) {
    result = xml_error(removed.error(), request.resource, request.request_id);
  } else {
    const std::string host(request.header("host").value_or("localhost"));
    result = xml_complete_upload("http://" + host + "/" + request.bucket + "/" + request.key,
                                 request.bucket, request.key, plan->etag);
  }
  co_await request.early.send(after_declaration(result));
  co_await request.early.finish();
  co_return Reply{http::status::ok, 11};
}

net::awaitable<S3Result<Reply>> abort_upload(S3Request& request) {
  auto upload = upload_of(request);
  if (!upload) co_return upload.error();
  if (auto removed = co_await remove_upload(request.app, request.bucket, upload->id); !removed) {
    co_return removed.error();
  }
  Reply reply{http::status::no_content, 11};
  reply.set("x-amz-request-id", request.request_id);
  co_return reply;
}

S3Result<Reply> list_parts(S3Request& request) {
  auto upload = upload_of(request);
  if (!upload) return upload.error();
  auto max_parts = parse_page_size(request.param("max-parts"), "max-parts");
  if (!max_parts) return max_parts.error();
  auto marker = parse_part_marker(request.param("part-number-marker"));
  if (!marker) return marker.error();
  ListPartsPage page;
  page.bucket = request.bucket;
  page.key = request.key;
  page.upload_id = upload->id;
  page.owner = request.auth.credential.access_key;
  page.marker = *marker;
  page.max_parts = *max_parts;
  const std::string prefix = parts_prefix(request.bucket, upload->id);
  auto scanned = scan_prefix(
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
  if (!scanned) return scanned.error();
  Reply reply = xml_reply(xml_list_parts(page));
  reply.set("x-amz-request-id", request.request_id);
  return reply;
}

// ListMultipartUploads: the bucket's unfinished uploads by key, then upload ID (all of them are
// read to sort them: they are few), after the markers, with the prefix.
S3Result<Reply> list_uploads(S3Request& request) {
  if (request.param("delimiter").value_or("") != "") {
    return s3_error(s3errc::not_implemented,
                    "mkv does not implement ListMultipartUploads with a delimiter");
  }
  auto max_uploads = parse_page_size(request.param("max-uploads"), "max-uploads");
  if (!max_uploads) return max_uploads.error();
  ListUploadsPage page;
  page.bucket = request.bucket;
  page.owner = request.auth.credential.access_key;
  page.prefix = request.param("prefix").value_or("");
  page.key_marker = request.param("key-marker").value_or("");
  page.upload_id_marker = request.param("upload-id-marker").value_or("");
  page.max_uploads = *max_uploads;
  const std::string prefix = uploads_prefix(request.bucket);
  std::vector<UploadEntry> uploads;
  auto scanned = scan_prefix(request.app, prefix, prefix, [&](Entry entry) {
    auto meta = decode_upload_meta(entry.record.meta);
    if (meta && meta->key.starts_with(page.prefix)) {
      uploads.push_back(
          {std::move(meta->key), entry.key.substr(prefix.size()), entry.record.modified});
    }
    return true;
  });
  if (!scanned) return scanned.error();
  std::sort(uploads.begin(), uploads.end(), [](const UploadEntry& a, const UploadEntry& b) {
    return std::tie(a.key, a.upload_id) < std::tie(b.key, b.upload_id);
  });
  for (auto& upload : uploads) {
    const bool after = page.key_marker.empty() || upload.key > page.key_marker ||
                       (upload.key == page.key_marker && !page.upload_id_marker.empty() &&
                        upload.upload_id > page.upload_id_marker);
    if (!after) continue;
    if (page.uploads.size() == page.max_uploads) {
      page.truncated = true;
      break;
    }
    page.uploads.push_back(std::move(upload));
  }
  Reply reply = xml_reply(xml_list_uploads(page));
  reply.set("x-amz-request-id", request.request_id);
  return reply;
}

// Removes, from one page of the index under root after from, the uploads (root uploads_root)
// or orphaned parts (root parts_root) older than expiry at now; returns where the next page
// starts, or nothing after the last.
net::awaitable<std::optional<std::string>> expire_page(App& app, std::string_view root,
                                                       std::string from, std::int64_t now,
                                                       std::int64_t expiry) {
  auto entries = app.index.scan(from, scan_page);
  if (!entries) co_return std::nullopt;  // the next sweep tries again
  std::optional<PartOwner> checked;  // the upload the last part belonged to, and whether it lives
  bool lives = false;
  for (const Entry& entry : *entries) {
    if (!entry.key.starts_with(root)) co_return std::nullopt;
    from = entry.key + '\0';
    if (!upload_expired(entry.record.modified, now, expiry)) continue;
    if (root == uploads_root) {
      const std::string_view rest = std::string_view(entry.key).substr(root.size());
      const auto slash = rest.find('/');
      if (slash == std::string_view::npos) continue;
      co_await remove_upload(app, rest.substr(0, slash), rest.substr(slash + 1));
      continue;
    }
    const auto owner = part_owner_of(entry.key);
    if (!owner) continue;
    if (owner != checked) {
      auto upload = app.index.get(upload_key(owner->bucket, owner->id));
      if (!upload) co_return std::nullopt;
      checked = owner;
      lives = upload->has_value();
    }
    if (!lives) co_await remove_key(app, entry.key);
  }
  if (entries->size() < scan_page) co_return std::nullopt;
  co_return from;
}

}  // namespace

net::awaitable<void> expire_uploads(App& app) {
  if (!app.gate.enter()) co_return;  // the stop waits for a sweep in progress
  const std::int64_t expiry = app.settings.s3.upload_expiry.count();
  const auto interval = std::chrono::seconds(upload_sweep_seconds(expiry));
  net::steady_timer wait(co_await net::this_coro::executor);
  while (!app.gate.closed()) {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    for (const std::string_view root : {uploads_root, parts_root}) {
      std::optional<std::string> from = std::string(root);
      while (from && !app.gate.closed()) {
        from = co_await expire_page(app, root, std::move(*from), now, expiry);
      }
    }
    // Wait for the interval, looking at the gate often so a stop is not held up.
    const auto due = std::chrono::steady_clock::now() + interval;
    while (!app.gate.closed() && std::chrono::steady_clock::now() < due) {
      wait.expires_after(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(50), due - std::chrono::steady_clock::now()));
      co_await wait.async_wait(as_values);
    }
  }
  app.gate.leave();
}

net::awaitable<S3Result<Reply>> handle_multipart_op(S3Request& request) {
  switch (request.op) {
    case S3Op::create_upload: co_return co_await create_upload(request);
    case S3Op::upload_part: co_return co_await upload_part(request);
    case S3Op::complete_upload: co_return co_await complete_upload(request);
    case S3Op::abort_upload: co_return co_await abort_upload(request);
    case S3Op::list_parts: co_return list_parts(request);
    case S3Op::list_uploads: co_return list_uploads(request);
    default: break;
  }
  co_return s3_error(s3errc::internal_error, "not a multipart operation");
}

}  // namespace mkv
