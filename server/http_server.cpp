// `mkv serve`: the HTTP listener, one coroutine per connection, and graceful shutdown.
#include "http_server.h"

#include "handlers.h"
#include "log.h"
#include "owner_lock.h"

#include "mkv/route.h"

#include <boost/asio/experimental/as_tuple.hpp>

#include <array>
#include <csignal>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mkv {

namespace {

using tcp = net::ip::tcp;
using namespace std::chrono_literals;
constexpr auto as_values = net::experimental::as_tuple(net::use_awaitable);
constexpr std::size_t body_read_size = 64 * 1024;  // the most one read of a body takes
constexpr std::size_t small_buffer = 8 * 1024;      // what a connection's buffer keeps idle

// The one place an error becomes an HTTP response.
Reply error_reply(const Error& error) {
  Reply reply{static_cast<http::status>(http_status(error.code)), 11};
  reply.set(http::field::content_type, "text/plain; charset=utf-8");
  if (error.code == errc::method_not_allowed) reply.set(http::field::allow, error.detail);
  reply.body() = message(error);
  return reply;
}

// Sets the framing of a reply to a request of the given method and version.
void frame(Reply& reply, bool head, unsigned version, bool keep_alive) {
  reply.version(version);
  reply.keep_alive(keep_alive);
  if (!head) {
    reply.prepare_payload();
  } else if (!reply.has_content_length()) {
    // A HEAD reply carries the length its GET would have, but no body.
    reply.content_length(reply.body().size());
    reply.body().clear();
  }
}

// Writes reply's status line and fields to out as HTTP/1.x wire text, ending with the blank
// line; the body follows separately. (What Beast's serializer sends for a reply with a
// Content-Length, built in one string so the reply goes out in one write without Beast's
// buffer-sequence machinery, which cost more than the rest of an index-only GET.)
void write_head(const Reply& reply, std::string& out) {
  out.clear();
  out += "HTTP/";
  out += static_cast<char>('0' + reply.version() / 10);
  out += '.';
  out += static_cast<char>('0' + reply.version() % 10);
  out += ' ';
  out += std::to_string(reply.result_int());
  out += ' ';
  out += reply.reason();
  out += "\r\n";
  for (const auto& field : reply) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

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

// Closes a connection after its last reply, first reading (briefly) what the client still
// sends, so the close does not reset the connection before the client read the reply.
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

// Writes a reply that ends the connection.
net::awaitable<void> reply_and_close(beast::tcp_stream& stream, Reply reply, unsigned version) {
  frame(reply, false, version, false);
  stream.expires_after(5s);
  co_await http::async_write(stream, reply, as_values);
  co_await linger_close(stream);
}

// Serves the requests of one client connection, one after the other.
net::awaitable<void> serve_connection(App& app, beast::tcp_stream stream) {
  // Bounded: Beast keeps a whole chunk-size line (extensions included) and the trailer block
  // in this buffer, and limits neither, so without a bound one request could take any amount
  // of memory. A header block is bounded by header_limit before this.
  beast::flat_buffer buffer(app.config.header_limit + 256 * 1024);
  std::string head_text;  // a reply's status line and fields, kept for the connection's replies
  for (;;) {
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(app.config.header_limit));
    parser.body_limit(boost::none);
    stream.expires_after(app.config.client_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_values);
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
          ec != http::error::partial_message) {
        co_await reply_and_close(stream, error_reply(Error::bad_request(ec.message())), 11);
      }
      co_return;
    }
    const auto& header = parser.get();
    const unsigned version = header.version();
    if (auto problem = framing_problem(header)) {
      co_await reply_and_close(stream, error_reply(Error::bad_request(*problem)), version);
      co_return;
    }
    if (!app.gate.enter()) {
      co_await reply_and_close(stream, error_reply(Error::bad_request("server is shutting down")),
                               version);
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
    RequestBody body(stream, buffer, parser, app.config.client_timeout);
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
    stream.expires_after(app.config.client_timeout);
    auto [wec, written] = co_await net::async_write(stream, wire, as_values);
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

// One io_context per thread (see run_server).
using IoContexts = std::vector<std::unique_ptr<net::io_context>>;

// Accepts connections until the acceptor is closed, one coroutine per connection, handing
// them to the io_contexts in turn.
net::awaitable<void> accept_connections(App& app, tcp::acceptor& acceptor, IoContexts& ios) {
  for (std::size_t next = 0;; next = (next + 1) % ios.size()) {
    auto [ec, socket] = co_await acceptor.async_accept(ios[next]->get_executor(), as_values);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors and the like: wait a little rather than spin.
      log_line("accept: " + ec.message());
      net::steady_timer pause(acceptor.get_executor(), 100ms);
      co_await pause.async_wait(as_values);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (app.connections.fetch_add(1) >= app.config.max_connections) {
      app.connections.fetch_sub(1);
      socket.close(ignored);
      continue;
    }
    auto executor = socket.get_executor();
    net::co_spawn(executor, serve_connection(app, beast::tcp_stream(std::move(socket))),
                  [&app](std::exception_ptr failure) {
                    app.connections.fetch_sub(1);
                    if (failure) {
                      try {
                        std::rethrow_exception(failure);
                      } catch (const std::exception& e) {
                        log_line(std::string("connection failed: ") + e.what());
                      }
                    }
                  });
  }
}

// Waits for SIGINT or SIGTERM, stops accepting, lets the requests in progress finish (at
// most 30 s), then stops the io_contexts.
net::awaitable<void> stop_on_signal(App& app, tcp::acceptor& acceptor, IoContexts& ios) {
  net::signal_set signals(acceptor.get_executor(), SIGINT, SIGTERM);
  auto [ec, signal] = co_await signals.async_wait(as_values);
  if (ec) co_return;
  log_line("signal " + std::to_string(signal) + ": finishing " + std::to_string(app.gate.active()) +
           " requests in progress");
  app.gate.close();
  boost::system::error_code ignored;
  acceptor.close(ignored);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  net::steady_timer tick(acceptor.get_executor());
  while (app.gate.active() > 0 && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(20ms);
    co_await tick.async_wait(as_values);
  }
  if (app.gate.active() > 0) log_line("stopping with requests still in progress");
  for (auto& io : ios) io->stop();
}

}  // namespace

int run_server(const Config& config) {
  auto owner = OwnerLock::acquire(config.db, "serve");
  if (!owner) {
    log_line(message(owner.error()));
    return 1;
  }
  auto index = IndexBackend::open(config.db);
  if (!index) {
    log_line("cannot open index " + config.db + ": " + message(index.error()));
    return 1;
  }
  IndexWriter writer(*index);
  KeyLocks locks;
  RequestGate gate;
  std::atomic<std::size_t> connections{0};
  const unsigned threads = config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());

  // One io_context per thread: a connection stays on the io_context that accepted it, so its
  // handlers never cross threads (no strand, no handing work between threads); only the index
  // writer and the key locks post to it from elsewhere. Each is kept running while idle.
  IoContexts ios;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  for (unsigned i = 0; i < threads; ++i) {
    ios.push_back(std::make_unique<net::io_context>(1));
    keep_running.push_back(net::make_work_guard(*ios.back()));
  }
  net::io_context& io = *ios.front();
  VolumeClient volumes(io.get_executor(), config.volumes, config.volume_options);
  App app{config, *index, writer, locks, volumes, gate, connections};

  tcp::acceptor acceptor(io);
  try {
    const tcp::endpoint endpoint(net::ip::make_address(config.bind), config.port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(net::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    log_line("cannot listen on " + config.bind + ":" + std::to_string(config.port) + ": " + e.what());
    return 1;
  }
  if (config.volumes.size() < config.replicas) {
    log_line("warning: " + message(Error::not_enough_volumes(config.replicas, config.volumes.size())) +
             "; PUTs will fail until more volumes are configured");
  }
  log_line("serving " + config.db + " (" MKV_INDEX_NAME ") on " + config.bind + ":" +
           std::to_string(config.port) + " with " + std::to_string(config.volumes.size()) +
           " volumes, r=" + std::to_string(config.replicas) + ", " + std::to_string(threads) +
           " threads");

  net::co_spawn(io, accept_connections(app, acceptor, ios), net::detached);
  net::co_spawn(io, stop_on_signal(app, acceptor, ios), net::detached);

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ios, i] { ios[i]->run(); });
  io.run();
  for (auto& t : pool) t.join();
  log_line("stopped");
  return 0;
}

}  // namespace mkv
