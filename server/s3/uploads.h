// The blobs of S3 multipart uploads in the index (mkv/s3_multipart.h says where they live):
// reading an upload's parts, removing an upload with its parts, and the sweep inside serve that
// expires abandoned uploads.
#pragma once

#include "app.h"
#include "index/reads.h"
#include "s3/reply.h"

#include "mkv/record.h"
#include "mkv/s3_error.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

// How many index entries one read of a listing takes.
inline constexpr std::size_t upload_scan_page = 1000;

// Calls visit(entry) for every index entry under prefix, in key order, a page at a time (so
// memory does not grow with their number); stops early when visit returns false.
template <typename Visit>
net::awaitable<S3Result<void>> scan_prefix(App& app, const std::string& prefix, std::string from,
                                           Visit visit) {
  if (from < prefix) from = prefix;
  for (;;) {
    auto entries = co_await read_entries(app.index, from, upload_scan_page);
    if (!entries) co_return s3_error_of(entries.error());
    for (auto& entry : *entries) {
      if (!entry.key.starts_with(prefix)) co_return S3Result<void>{};
      from = entry.key + '\0';
      if (!visit(std::move(entry))) co_return S3Result<void>{};
    }
    if (entries->size() < upload_scan_page) co_return S3Result<void>{};
  }
}

// Returns the parts of an upload as the index records them: each part's number and entry.
net::awaitable<S3Result<std::vector<std::pair<unsigned, Entry>>>> parts_of(App& app,
                                                                           std::string_view bucket,
                                                                           std::string_view id);

// Deletes a key (its record, then its copies), counting an absent one as deleted.
net::awaitable<S3Result<void>> remove_key(App& app, std::string key);

// Deletes an upload: its record first (so it is gone for every request at once), then its
// parts, then (best effort) the parts' directory on each volume that held one, which nginx
// leaves behind empty. A part left behind (a failed delete, an UploadPart racing the abort) is
// removed by the expiry sweep, as a part whose upload is gone.
net::awaitable<S3Result<void>> remove_upload(App& app, std::string_view bucket,
                                             std::string_view id);

// Removes unfinished multipart uploads older than --s3-upload-expiry with their parts, and
// parts as old whose upload is gone (an UploadPart racing an abort), every tenth of the expiry
// (1 s to 10 min) until serve stops. Runs inside serve while the S3 API is on.
net::awaitable<void> expire_uploads(App& app);

}  // namespace mkv
