// The body of a PutObject (see s3_body.h).
#include "s3/s3_body.h"

#include <algorithm>
#include <cstring>

namespace mkv {

namespace {

// The most one read of an aws-chunked body takes from the client (as its connection reads).
constexpr std::size_t s3_body_raw_read = 64 * 1024;

}  // namespace

S3Body::S3Body(RequestBody& body, PutBodyPlan plan, const Authenticated& auth)
    : body_(body), plan_(std::move(plan)) {
  if (plan_.aws_chunked) {
    decoder_.emplace(auth.payload, chunk_signing(auth), plan_.length);
    raw_.resize(s3_body_raw_read);
  }
  if (plan_.checksum) checksum_.emplace(plan_.checksum->algorithm);
}

std::optional<std::pair<std::string, std::string>> S3Body::checksum_header() const {
  if (!verified_ || !plan_.checksum) return std::nullopt;
  return std::pair(std::string(checksum_header_name(plan_.checksum->algorithm)), computed_);
}

Error S3Body::fail(S3Error error) {
  failure_ = std::move(error);
  return Error::bad_request(std::string(s3_code_name(failure_->code)) + ": " + failure_->message);
}

Result<void> S3Body::verify() {
  const std::string computed = checksum_ ? checksum_->finish() : std::string();
  const Trailers none;
  auto checked = check_put_body(plan_, decoder_ ? decoder_->trailers() : none, computed);
  if (!checked) return fail(checked.error());
  computed_ = computed;
  verified_ = true;
  return {};
}

net::awaitable<Result<std::size_t>> S3Body::read(std::span<char> out) {
  if (failure_) co_return fail(*failure_);
  if (verified_) co_return std::size_t{0};
  if (decoder_) co_return co_await read_chunked(out);
  co_return co_await read_as_sent(out);
}

net::awaitable<Result<std::size_t>> S3Body::read_as_sent(std::span<char> out) {
  auto n = co_await body_.read(out);
  if (!n) co_return n.error();
  if (checksum_) checksum_->update(out.first(*n));
  handed_ += *n;
  // The client's body is the object: the read that ends it is the one that verifies it.
  if (handed_ == plan_.length) {
    if (auto verified = verify(); !verified) co_return verified.error();
  } else if (body_.done()) {
    co_return fail(s3_error(s3errc::incomplete_body, "the body ended after " +
                                                         std::to_string(handed_) + " of " +
                                                         std::to_string(plan_.length) + " bytes"));
  }
  co_return *n;
}

net::awaitable<Result<std::size_t>> S3Body::read_chunked(std::span<char> out) {
  std::size_t filled = 0;
  for (;;) {
    while (pending_at_ < pending_.size() && filled < out.size()) {
      auto& piece = pending_[pending_at_];
      const std::size_t n = std::min(piece.size(), out.size() - filled);
      if (n > 0) std::memcpy(out.data() + filled, piece.data(), n);
      filled += n;
      piece = piece.subspan(n);
      if (piece.empty()) ++pending_at_;
    }
    if (handed_ + filled == plan_.length) break;
    if (filled == out.size()) {
      handed_ += filled;
      co_return filled;
    }
    if (body_.done()) {
      auto ended = decoder_->finish();  // the decoder says where the body stopped
      co_return fail(ended ? s3_error(s3errc::incomplete_body) : ended.error());
    }
    auto n = co_await body_.read(raw_);
    if (!n) co_return n.error();
    auto pieces = decoder_->feed(std::span<const char>(raw_.data(), *n));
    if (!pieces) co_return fail(pieces.error());
    if (checksum_) {
      for (const auto piece : *pieces) checksum_->update(piece);
    }
    pending_ = std::move(*pieces);
    pending_at_ = 0;
  }
  // The object's last byte is in out: it goes out only once the whole body is verified.
  if (auto rest = co_await read_rest(); !rest) co_return rest.error();
  handed_ += filled;
  co_return filled;
}

net::awaitable<Result<void>> S3Body::read_rest() {
  // Every byte of data has been decoded (the decoder refuses more than
  // x-amz-decoded-content-length), so raw_ holds nothing still to hand out and what follows is the
  // last chunk and the trailer.
  while (!body_.done()) {
    auto n = co_await body_.read(raw_);
    if (!n) co_return n.error();
    auto pieces = decoder_->feed(std::span<const char>(raw_.data(), *n));
    if (!pieces) co_return fail(pieces.error());
  }
  if (auto ended = decoder_->finish(); !ended) co_return fail(ended.error());
  co_return verify();
}

}  // namespace mkv
