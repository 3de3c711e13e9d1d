// The body of a completed multipart upload: its parts read one after another, each from one of
// its copies, as one stream, so CompleteMultipartUpload writes the object like a PUT (volume ->
// mkv -> volumes, never whole in memory). Each part is checked against the MD5 its upload
// recorded as it is read, and the client is kept waiting with spaces (s3/early_reply.h).
#pragma once

#include "app.h"
#include "http/body_source.h"
#include "s3/early_reply.h"
#include "volume/download.h"

#include "mkv/checksum.h"
#include "mkv/record.h"
#include "mkv/s3_error.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace mkv {

class PartsBody final : public BodySource {
 public:
  // parts: each part's index key and record, in the object's order; size: their sum. app and
  // early must outlive the body.
  PartsBody(App& app, std::vector<Entry> parts, std::uint64_t size, EarlyReply& early)
      : app_(app), parts_(std::move(parts)), size_(size), early_(early) {}

  std::optional<std::uint64_t> length() const override { return size_; }
  bool done() const override { return handed_ == size_ && next_ == parts_.size() && !current_; }
  net::awaitable<Result<void>> begin() override { co_return Result<void>{}; }
  // Fills out with the next bytes of the parts; fails (failure() saying why) when no copy of a
  // part can be read, or the one read does not match the part's MD5.
  net::awaitable<Result<std::size_t>> read(std::span<char> out) override;

  // Returns the S3 error the concatenation stopped with, or nothing.
  const std::optional<S3Error>& failure() const { return failure_; }

 private:
  // Starts reading the next part.
  net::awaitable<Result<void>> open_next();
  // Checks the part just read whole against its MD5.
  Result<void> close_current();
  Error fail(S3Error error);

  App& app_;
  std::vector<Entry> parts_;
  std::uint64_t size_;
  EarlyReply& early_;
  std::size_t next_ = 0;               // the next part to open
  std::unique_ptr<Download> current_;  // the part being read
  std::uint64_t current_left_ = 0;     // its bytes not read yet
  std::optional<Md5Stream> current_md5_;
  std::uint64_t handed_ = 0;
  std::optional<S3Error> failure_;
};

}  // namespace mkv
