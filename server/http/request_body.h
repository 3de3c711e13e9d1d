// The request being handled: its header, and its body read from the client connection in
// pieces.
#pragma once

#include "asio.h"
#include "http/body_source.h"

#include "mkv/error.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace mkv {

// The request being handled: its header, and its body read from the client connection in
// pieces.
class RequestBody final : public BodySource {
 public:
  RequestBody(beast::tcp_stream& stream, beast::flat_buffer& buffer,
              http::request_parser<http::buffer_body>& parser, std::chrono::seconds timeout)
      : stream_(stream), buffer_(buffer), parser_(parser), timeout_(timeout) {}

  // Returns the value of a header field, or nullopt when the request has none.
  std::optional<std::string_view> field(http::field name) const {
    const auto& header = parser_.get();
    const auto it = header.find(name);
    if (it == header.end()) return std::nullopt;
    return std::string_view(it->value());
  }

  // Returns the declared Content-Length, or nullopt for a chunked body.
  std::optional<std::uint64_t> length() const override {
    const auto length = parser_.content_length();
    return length ? std::optional<std::uint64_t>(*length) : std::nullopt;
  }
  // Returns whether the whole body has been read.
  bool done() const override { return parser_.is_done(); }
  // Returns the body bytes read so far.
  std::uint64_t received() const { return received_; }

  // Tells a client that sent "Expect: 100-continue" to go on sending the body.
  net::awaitable<Result<void>> continue_if_expected();
  net::awaitable<Result<void>> begin() override { return continue_if_expected(); }

  // The slowest average a body may arrive at once the timeout has passed, bytes per second.
  static constexpr std::size_t min_body_rate = 1024;

  // Fills out with the next bytes of the body; returns fewer only at its end (then done()).
  // A client that stalls for the timeout, sends slower than min_body_rate after it,
  // disconnects or sends a malformed body yields bad_request.
  net::awaitable<Result<std::size_t>> read(std::span<char> out) override;

 private:
  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  http::request_parser<http::buffer_body>& parser_;
  std::chrono::seconds timeout_;
  bool continued_ = false;
  std::uint64_t received_ = 0;
};

}  // namespace mkv
