// One GET of a blob from one volume (see download.h).
#include "download.h"

#include "mkv/volume_answer.h"

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <utility>

namespace mkv {

namespace {

// How much of a blob one read from the volume's socket may take.
constexpr std::size_t body_read_size = 64 * 1024;

}  // namespace

Download::Download(VolumePool& volume, std::string target, std::string extra_fields)
    : volume_(volume), target_(std::move(target)), extra_fields_(std::move(extra_fields)) {}

net::awaitable<VolumeReply> Download::start() {
  const std::string head =
      request_head("GET", target_, volume_.volume(), volume_.options().signing, extra_fields_);
  const auto timeout = volume_.options().io_timeout;
  for (bool resent = false;; resent = true) {
    auto connection = co_await volume_.acquire();
    if (!connection) co_return connection.error();
    connection_.emplace(std::move(*connection));
    auto& stream = *connection_->stream;
    stream.expires_after(timeout);
    auto [wec, written] = co_await net::async_write(stream, net::buffer(head), as_values);
    buffer_.consume(buffer_.size());
    parser_.emplace();
    parser_->body_limit(boost::none);
    boost::system::error_code rec;
    if (!wec) {
      stream.expires_after(timeout);
      std::tie(rec, std::ignore) =
          co_await http::async_read_header(stream, buffer_, *parser_, as_values);
    }
    const auto ec = wec ? wec : rec;
    if (!ec) {
      volume_.observe_status(parser_->get().result_int(), "GET");
      // Beast reads a body through buffer_, at most its free capacity at a time: left at what
      // the header needed, a large blob would take one read per few hundred bytes.
      const auto length = parser_->content_length();
      buffer_.reserve(buffer_.size() + (length ? std::min<std::uint64_t>(*length, body_read_size)
                                               : body_read_size));
      co_return parser_->get().result_int();
    }
    const bool reused = connection_->reused;
    connection_.reset();
    parser_.reset();
    Error error = transport_error(volume_.volume(), "exchange", ec);
    volume_.observe(Seen::failed, error.detail);
    if (after_no_answer(false, reused, resent, ec == beast::error::timeout) == Unanswered::fail) {
      co_return error;
    }
  }
}

std::optional<std::uint64_t> Download::length() const {
  const auto length = parser_->content_length();
  return length ? std::optional<std::uint64_t>(*length) : std::nullopt;
}

std::string_view Download::field(http::field name) const {
  const auto& header = parser_->get();
  const auto it = header.find(name);
  return it == header.end() ? std::string_view() : std::string_view(it->value());
}

net::awaitable<Result<std::size_t>> Download::read(std::span<char> out) {
  std::size_t filled = 0;
  while (filled < out.size() && !parser_->is_done()) {
    auto& body = parser_->get().body();
    body.data = out.data() + filled;
    body.size = out.size() - filled;
    connection_->stream->expires_after(volume_.options().io_timeout);
    auto [ec, n] = co_await http::async_read(*connection_->stream, buffer_, *parser_, as_values);
    filled = out.size() - body.size;
    if (ec && ec != http::error::need_buffer) {
      connection_.reset();
      Error error = transport_error(volume_.volume(), "read", ec);
      volume_.observe(Seen::failed, error.detail);
      co_return error;
    }
  }
  if (parser_->is_done() && connection_) {
    if (parser_->get().keep_alive()) volume_.release(std::move(*connection_));
    connection_.reset();
  }
  co_return filled;
}

}  // namespace mkv
