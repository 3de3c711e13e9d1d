// One PUT of a body to one volume (see upload.h).
#include "upload.h"

#include "pipeline.h"

#include "mkv/volume_answer.h"

#include <array>
#include <utility>

namespace mkv {

Upload::Upload(VolumePool& volume, std::string target, std::optional<std::uint64_t> length)
    : volume_(volume), target_(std::move(target)), length_(length) {}

Error Upload::failure(std::string_view what, const boost::system::error_code& ec) {
  Error error = transport_error(volume_.volume(), what, ec);
  timed_out_ = ec == beast::error::timeout;
  volume_.observe(Seen::failed, error.detail);
  return error;
}

std::string Upload::head() const {
  return request_head("PUT", target_, volume_.volume(), volume_.options().signing,
                      "Content-Length: " + std::to_string(*length_) + "\r\n");
}

net::awaitable<Result<void>> Upload::start() {
  auto connection = co_await volume_.acquire();
  if (!connection) co_return connection.error();
  connection_.emplace(std::move(*connection));
  // The head goes out with the first piece, in one write (see write_piece).
  if (length_) {
    head_ = head();
    co_return Result<void>{};
  }
  request_ = {};
  request_.method(http::verb::put);
  request_.target(volume_.options().signing.sign("PUT", target_));
  request_.version(11);
  request_.set(http::field::host, host_field(volume_.volume()));
  request_.chunked(true);
  serializer_.emplace(request_);
  co_return Result<void>{};
}

net::awaitable<Result<void>> Upload::write_piece(net::const_buffer piece, bool last) {
  if (length_) {
    // A body of known length goes out as it is, the head in front of its first piece.
    const std::array<net::const_buffer, 2> wire{net::buffer(head_), piece};
    connection_->stream->expires_after(volume_.options().io_timeout);
    auto [ec, n] = co_await net::async_write(*connection_->stream, wire, as_values);
    head_.clear();
    if (ec) co_return failure("write", ec);
    co_return Result<void>{};
  }
  auto& body = request_.body();
  body.data = piece.size() ? const_cast<void*>(piece.data()) : nullptr;
  body.size = piece.size();
  body.more = !last;
  connection_->stream->expires_after(volume_.options().io_timeout);
  auto [ec, n] = co_await http::async_write(*connection_->stream, *serializer_, as_values);
  if (ec && ec != http::error::need_buffer) co_return failure("write", ec);
  co_return Result<void>{};
}

net::awaitable<VolumeReply> Upload::finish() {
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  connection_->stream->expires_after(volume_.options().io_timeout);
  auto [ec, n] = co_await http::async_read(*connection_->stream, buffer, parser, as_values);
  if (ec) co_return failure("read", ec);
  const unsigned status = parser.get().result_int();
  volume_.observe_status(status, "PUT");
  if (parser.get().keep_alive()) volume_.release(std::move(*connection_));
  connection_.reset();
  co_return status;
}

net::awaitable<void> Upload::send_pipelined(net::const_buffer body) {
  WholeRequest request{head(), body};
  reply_ = co_await volume_.pipelined(request);
  body_sent_ = request.sent;
}

net::awaitable<void> Upload::send(net::const_buffer piece, bool last) {
  if (reply_) co_return;
  // A small body that arrived whole shares the volume's pipeline with other requests.
  if (pipelinable_body(!started_ && last, length_, piece.size(),
                       volume_.options().pipelined_body_limit)) {
    started_ = true;
    co_await send_pipelined(piece);
    co_return;
  }
  // A body sent whole in one piece can be sent again; a streamed body cannot.
  const bool resendable = !started_ && last;
  for (bool resent = false;; resent = true) {
    if (!started_) {
      started_ = true;
      if (auto r = co_await start(); !r) {
        reply_ = r.error();
        co_return;
      }
    }
    const bool reused = connection_->reused;
    auto written = co_await write_piece(piece, last);
    if (written && !last) co_return;
    body_sent_ = written.has_value();
    // (No co_await inside ?: — GCC 12 miscompiles it.)
    VolumeReply reply = 0u;
    if (written) {
      reply = co_await finish();
    } else {
      reply = written.error();
    }
    // A whole body is sent again once when a reused keep-alive connection turns out closed.
    const bool resend = !reply && resendable &&
                        after_no_answer(false, reused, resent, timed_out_) == Unanswered::resend;
    if (!resend) {
      reply_ = std::move(reply);
      if (!reply_->has_value()) connection_.reset();
      co_return;
    }
    connection_.reset();
    started_ = false;
  }
}

}  // namespace mkv
