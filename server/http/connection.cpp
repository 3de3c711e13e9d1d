// One client connection (see connection.h).
#include "connection.h"

#include "reply.h"
#include "request_body.h"

#include "api/api.h"
#include "mkv/route.h"

#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <iterator>
#include <optional>
#include <string>

namespace mkv {

namespace {

namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
constexpr std::size_t body_read_size = 64 * 1024;  // the most one read of a body takes
constexpr std::size_t small_buffer = 8 * 1024;      // what a connection's buffer keeps idle

// Returns why a request's body framing is refused, or nullopt. mkv stores a body as sent, so
// the one transfer coding it takes is a lone "chunked": any other would be stored still encoded,
// and a request whose last coding is not chunked has no knowable length (RFC 9112 6.3).
std::optional<std::string> framing_problem(const http::request_header<>& header) {
  const auto [first, last] = header.equal_range(http::field::transfer_encoding);
  if (first == last) return std::nullopt;
  if (std::next(first) != last || !beast::iequals(first->value(), "chunked")) {
    return "unsupported Transfer-Encoding (only chunked)";
  }
  return std::nullopt;
}


// Writes a reply that ends the connection.
net::awaitable<void> reply_and_close(beast::tcp_stream& stream, Reply reply, unsigned version) {
  frame(reply, false, version, false);
  stream.expires_after(5s);
  co_await http::async_write(stream, reply, as_values);
  co_await linger_close(stream);
}

}  // namespace

net::awaitable<void> linger_close(beast::tcp_stream& stream) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::array<char, 16 * 1024> sink;
  std::size_t drained = 0;
  stream.expires_after(2s);
  while (drained < 4 * 1024 * 1024) {
    auto [ec, n] = co_await stream.async_read_some(net::buffer(sink), as_values);
    if (ec) break;
    drained += n;
  }
  stream.socket().close(ignored);
}

net::awaitable<void> serve_connection(App& app, beast::tcp_stream stream) {
  // Bounded: Beast keeps a whole chunk-size line (extensions included) and the trailer block
  // in this buffer, and limits neither, so without a bound one request could take any amount
  // of memory. A header block is bounded by header_limit before this.
  beast::flat_buffer buffer(app.settings.header_limit + 256 * 1024);
  std::string head_text;  // a reply's status line and fields, kept for the connection's replies
  for (;;) {
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(app.settings.header_limit));
    parser.body_limit(boost::none);
    stream.expires_after(app.settings.client_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_values);
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
          ec != http::error::end_of_stream &&
          ec != http::error::partial_message) {
        co_await reply_and_close(stream, error_reply(Error::bad_request(ec.message())), 11);
      }
      co_return;
    }
    const auto started = std::chrono::steady_clock::now();
    const auto& header = parser.get();
    const unsigned version = header.version();
    if (auto problem = framing_problem(header)) {
      co_await reply_and_close(stream, error_reply(Error::bad_request(*problem)), version);
      co_return;
    }
    if (!app.gate.enter()) {
      co_await reply_and_close(stream, error_reply(Error::shutting_down()), version);
      co_return;
    }
    const bool head = header.method() == http::verb::head;
    if (!parser.is_done()) {
      // Beast reads a body through buffer, at most its free capacity at a time: left at the
      // few hundred bytes a header needed, a large body would take one read per 512 bytes.
      const auto length = parser.content_length();
      const std::size_t chunk = length ? std::min<std::uint64_t>(*length, body_read_size)
                                       : body_read_size;
      buffer.reserve(std::min(buffer.max_size(), buffer.size() + chunk));
    }
    RequestBody body(stream, buffer, parser, app.settings.client_timeout);
    auto routed = route(header.method_string(), header.target());
    // (No co_await inside ?: — GCC 12 miscompiles it.)
    Result<Reply> result = Reply{};
    if (routed) {
      result = co_await handle(app, std::move(*routed), body);
    } else {
      result = routed.error();
    }
    Reply reply = result ? std::move(*result) : error_reply(result.error());
    const bool keep_alive = header.keep_alive() && body.done() && !app.gate.closed();
    frame(reply, head, version, keep_alive);
    write_head(reply, head_text);
    const std::array<net::const_buffer, 2> wire{net::buffer(head_text), net::buffer(reply.body())};
    stream.expires_after(app.settings.client_timeout);
    auto [wec, written] = co_await net::async_write(stream, wire, as_values);
    app.metrics.record(header.method_string(), reply.result_int(),
                       std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - started),
                       body.received());
    app.gate.leave();
    if (wec) co_return;
    // An idle connection keeps no large body buffer (shrinking keeps any pipelined bytes).
    if (buffer.capacity() > small_buffer) buffer.shrink_to_fit();
    if (!keep_alive) {
      co_await linger_close(stream);
      co_return;
    }
  }
}

}  // namespace mkv
