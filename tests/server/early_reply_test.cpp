// The reply a CompleteMultipartUpload sends before its work is done: the head at once, the body
// in chunks, a space after a silence, and a body a client's HTTP parser reads whole.
#include "s3/early_reply.h"

#include "in_process.h"

#include <boost/beast/http.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono_literals;
using tcp = mkv::net::ip::tcp;

// What the client received, byte for byte, once the server side wrote the reply and closed.
struct Received {
  std::string wire;
};

mkv::net::awaitable<Received> exchange() {
  auto executor = co_await mkv::net::this_coro::executor;
  tcp::acceptor acceptor(executor, {mkv::net::ip::make_address("127.0.0.1"), 0});
  tcp::socket client(executor);
  co_await client.async_connect(acceptor.local_endpoint(), mkv::net::use_awaitable);
  mkv::beast::tcp_stream server(co_await acceptor.async_accept(mkv::net::use_awaitable));

  mkv::EarlyReply early(server, 5s, 11, true, 50ms);
  mkv::Reply head{mkv::http::status::ok, 11};
  head.set(mkv::http::field::content_type, "application/xml");
  head.body() = "ignored";
  co_await early.start(std::move(head));
  co_await early.send("<?xml?>");
  co_await early.keep_alive();  // just written: nothing
  mkv::net::steady_timer wait(executor, 120ms);
  co_await wait.async_wait(mkv::net::use_awaitable);
  co_await early.keep_alive();  // silent for longer than the interval: a space
  co_await early.keep_alive();  // and not another one at once
  co_await early.send("");      // an empty piece would end the body: not sent
  co_await early.send("<Done/>");
  co_await early.finish();
  CHECK(early.started());
  CHECK_FALSE(early.failed());
  server.socket().shutdown(tcp::socket::shutdown_send);

  Received received;
  char piece[4096];
  for (;;) {
    auto [ec, n] = co_await client.async_read_some(mkv::net::buffer(piece), mkv::as_values);
    received.wire.append(piece, n);
    if (ec) break;
  }
  co_return received;
}

}  // namespace

TEST_CASE("an early reply: the head at once, then chunks, with a space after a silence") {
  mkv::test::IoThread io;
  const Received received = io.run(exchange());
  const auto blank = received.wire.find("\r\n\r\n");
  REQUIRE(blank != std::string::npos);
  const std::string head = received.wire.substr(0, blank + 4);
  CHECK(head.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(head.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(head.find("Content-Type: application/xml\r\n") != std::string::npos);
  CHECK(head.find("Content-Length") == std::string::npos);
  CHECK(received.wire.substr(blank + 4) == "7\r\n<?xml?>\r\n1\r\n \r\n7\r\n<Done/>\r\n0\r\n\r\n");

  // And an HTTP parser reads it as one 200 whose body is the pieces in order.
  mkv::http::response_parser<mkv::http::string_body> parser;
  mkv::beast::error_code ec;
  parser.eager(true);
  std::size_t at = 0;
  while (!parser.is_done() && at < received.wire.size() && !ec) {
    at += parser.put(mkv::net::buffer(received.wire.data() + at, received.wire.size() - at), ec);
  }
  REQUIRE_FALSE(ec);
  REQUIRE(parser.is_done());
  CHECK(parser.get().body() == "<?xml?> <Done/>");
  CHECK(parser.get().keep_alive());
}
