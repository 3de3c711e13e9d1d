// The parts of a multipart upload read as one body (see parts_body.h).
#include "s3/parts_body.h"

#include "s3/handlers.h"

#include <algorithm>
#include <string>

namespace mkv {

net::awaitable<Result<std::size_t>> PartsBody::read(std::span<char> out) {
  std::size_t filled = 0;
  while (filled < out.size()) {
    if (!current_) {
      if (next_ == parts_.size()) break;
      co_await early_.keep_alive();
      if (auto opened = co_await open_next(); !opened) co_return opened.error();
      if (!current_) continue;  // an empty part
    }
    const std::size_t want =
        std::size_t(std::min<std::uint64_t>(out.size() - filled, current_left_));
    auto n = co_await current_->read(out.subspan(filled, want));
    if (!n) {
      co_return fail(s3_error(s3errc::internal_error, "reading part " + parts_[next_ - 1].key +
                                                          " from " + current_->volume().url +
                                                          " failed: " + n.error().detail));
    }
    if (*n == 0) {
      co_return fail(
          s3_error(s3errc::internal_error,
                   "part " + parts_[next_ - 1].key + " ended early on " + current_->volume().url));
    }
    current_md5_->update(out.subspan(filled, *n));
    filled += *n;
    current_left_ -= *n;
    if (current_left_ == 0) {
      if (auto closed = close_current(); !closed) co_return closed.error();
    }
  }
  handed_ += filled;
  co_await early_.keep_alive();
  co_return filled;
}

net::awaitable<Result<void>> PartsBody::open_next() {
  const Entry& part = parts_[next_++];
  current_md5_.emplace();
  if (part.record.size == 0) {
    if (auto closed = close_current(); !closed) co_return closed.error();
    co_return Result<void>{};
  }
  auto download = co_await open_copy(app_, part.key, part.record, std::nullopt);
  if (!download) co_return fail(download.error());
  current_ = std::move(*download);
  current_left_ = part.record.size;
  co_return Result<void>{};
}

Result<void> PartsBody::close_current() {
  const Entry& part = parts_[next_ - 1];
  const Md5 md5 = current_md5_->finish();
  const std::string where = current_ ? " read from " + current_->volume().url : std::string();
  current_.reset();
  current_md5_.reset();
  if (part.record.md5 && md5 != *part.record.md5) {
    return fail(s3_error(s3errc::internal_error,
                         "part " + part.key + where +
                             " does not match its MD5 (run mkv verify --repair, then complete "
                             "the upload again)"));
  }
  return {};
}

Error PartsBody::fail(S3Error error) {
  std::string detail = error.message;
  failure_ = std::move(error);
  return Error::volume_request_failed(std::move(detail));
}

}  // namespace mkv
