// The blobs of S3 multipart uploads in the index (see uploads.h).
#include "s3/uploads.h"

#include "api/handlers.h"
#include "clock.h"
#include "http/gate_wait.h"
#include "volume/client.h"

#include "mkv/conditions.h"
#include "mkv/s3_multipart.h"
#include "mkv/volume.h"

#include <algorithm>
#include <chrono>
#include <optional>

namespace mkv {

namespace {

// Removes, from one page of the index under root after from, the uploads (root uploads_root)
// or orphaned parts (root parts_root) older than expiry at now; returns where the next page
// starts, or nothing after the last.
net::awaitable<std::optional<std::string>> expire_page(App& app, std::string_view root,
                                                       std::string from, std::int64_t now,
                                                       std::int64_t expiry) {
  auto entries = co_await read_entries(app.index, from, upload_scan_page);
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
      const std::string key = upload_key(owner->bucket, owner->id);
      auto upload = co_await read_record(app.index, key);
      if (!upload) co_return std::nullopt;
      checked = owner;
      lives = upload->has_value();
    }
    if (!lives) co_await remove_key(app, entry.key);
  }
  if (entries->size() < upload_scan_page) co_return std::nullopt;
  co_return from;
}

}  // namespace

net::awaitable<S3Result<std::vector<std::pair<unsigned, Entry>>>> parts_of(App& app,
                                                                           std::string_view bucket,
                                                                           std::string_view id) {
  const std::string prefix = parts_prefix(bucket, id);
  std::vector<std::pair<unsigned, Entry>> parts;
  auto scanned = co_await scan_prefix(app, prefix, prefix, [&](Entry entry) {
    if (const auto number = part_number_of(std::string_view(entry.key).substr(prefix.size()))) {
      parts.emplace_back(*number, std::move(entry));
    }
    return true;
  });
  if (!scanned) co_return scanned.error();
  co_return parts;
}

net::awaitable<S3Result<void>> remove_key(App& app, std::string key) {
  auto removed = co_await handle_delete(app, std::move(key), Conditions{});
  if (!removed && removed.error().code != errc::not_found) co_return s3_error_of(removed.error());
  co_return S3Result<void>{};
}

net::awaitable<S3Result<void>> remove_upload(App& app, std::string_view bucket,
                                             std::string_view id) {
  if (auto removed = co_await remove_key(app, upload_key(bucket, id)); !removed) {
    co_return removed.error();
  }
  auto parts = co_await parts_of(app, bucket, id);
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

net::awaitable<void> expire_uploads(App& app) {
  if (!app.gate.enter()) co_return;  // the stop waits for a sweep in progress
  const std::int64_t expiry = app.settings.s3.upload_expiry.count();
  const auto interval = std::chrono::seconds(upload_sweep_seconds(expiry));
  net::steady_timer wait(co_await net::this_coro::executor);
  while (!app.gate.closed()) {
    const std::int64_t now = unix_seconds();
    for (const std::string_view root : {uploads_root, parts_root}) {
      std::optional<std::string> from = std::string(root);
      while (from && !app.gate.closed()) {
        from = co_await expire_page(app, root, std::move(*from), now, expiry);
      }
    }
    co_await wait_unless_closed(app.gate, wait, interval);
  }
  app.gate.leave();
}

}  // namespace mkv
