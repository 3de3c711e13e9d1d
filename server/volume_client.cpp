// The HTTP client for nginx volumes (see volume_client.h).
#include "volume_client.h"

#include <boost/asio/experimental/as_tuple.hpp>

#include <algorithm>
#include <array>
#include <iterator>
#include <tuple>
#include <utility>

namespace mkv {

namespace {

constexpr auto as_values = net::experimental::as_tuple(net::use_awaitable);

Error transport_error(const Volume& v, std::string_view what, const boost::system::error_code& ec) {
  return Error::volume_write_failed(v.url + ": " + std::string(what) + ": " + ec.message());
}

// Appends the head of an HTTP/1.1 request to out: the request line, each field, a blank line.
// (Sent with one plain write: Beast's serializer costs more CPU than the rest of a DELETE.)
template <class Fields>
void append_head(std::string& out, std::string_view method, std::string_view target,
                 const Fields& fields) {
  out += method;
  out += ' ';
  out += target;
  out += " HTTP/1.1\r\n";
  for (const auto& field : fields) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

VolumeConnections::VolumeConnections(Volume volume, VolumeOptions options)
    : volume_(std::move(volume)), options_(options) {}

namespace {

// Returns the io_context (or other execution context) an executor runs its work on.
const net::execution_context* context_of(const net::any_io_executor& executor) {
  return &net::query(executor, net::execution::context);
}

}  // namespace

net::awaitable<Result<Connection>> VolumeConnections::acquire() {
  const net::any_io_executor executor = co_await net::this_coro::executor;
  const auto* context = context_of(executor);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    for (auto& [owner, idle] : idle_) {
      if (owner != context) continue;
      while (!idle.empty()) {
        Idle youngest = std::move(idle.back());
        idle.pop_back();
        --idle_count_;
        if (now - youngest.since < options_.idle_limit) {
          co_return Connection{std::move(youngest.stream), true};
        }
      }
    }
  }
  net::ip::tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(volume_.host, volume_.port, as_values);
  if (rec) co_return transport_error(volume_, "resolve", rec);
  auto stream = std::make_unique<beast::tcp_stream>(executor);
  stream->expires_after(options_.connect_timeout);
  auto [cec, endpoint] = co_await stream->async_connect(endpoints, as_values);
  if (cec) co_return transport_error(volume_, "connect", cec);
  stream->socket().set_option(net::ip::tcp::no_delay(true));
  co_return Connection{std::move(stream), false};
}

void VolumeConnections::release(Connection connection) {
  const auto* context = context_of(connection.stream->get_executor());
  std::lock_guard lock(mutex_);
  if (idle_count_ >= options_.max_idle) return;
  auto owned = std::find_if(idle_.begin(), idle_.end(),
                            [&](const auto& entry) { return entry.first == context; });
  if (owned == idle_.end()) {
    idle_.emplace_back(context, std::vector<Idle>());
    owned = std::prev(idle_.end());
  }
  owned->second.push_back({std::move(connection.stream), std::chrono::steady_clock::now()});
  ++idle_count_;
}

net::awaitable<VolumeReply> VolumeConnections::pipelined(WholeRequest& request) {
  const net::any_io_executor executor = co_await net::this_coro::executor;
  const auto* context = context_of(executor);
  Pipeline* pipeline = nullptr;
  {
    std::lock_guard lock(mutex_);
    for (auto& [owner, p] : pipelines_) {
      if (owner == context) pipeline = p.get();
    }
    if (!pipeline) {
      pipelines_.emplace_back(context, std::make_unique<Pipeline>(*this, executor));
      pipeline = pipelines_.back().second.get();
    }
  }
  co_return co_await pipeline->exchange(request);
}

namespace {

// Takes the first of queue out of it. (Move-constructed: move-assigning an
// any_completion_handler recurses in Asio 1.81.)
template <class T>
T take_front(std::deque<T>& queue) {
  T front(std::move(queue.front()));
  queue.pop_front();
  return front;
}

// At most this much goes out in one write of a pipeline, so that the answers to one batch
// always fit in the socket buffers while the batch is still being written.
constexpr std::size_t max_batch_requests = 64;
constexpr std::size_t max_batch_bytes = 256 * 1024;

}  // namespace

net::awaitable<VolumeReply> Pipeline::exchange(WholeRequest& request) {
  return net::async_initiate<decltype(net::use_awaitable), void(VolumeReply)>(
      [this](auto handler, WholeRequest* r) {
        queued_.push_back(Waiting{r, Handler(std::move(handler))});
        if (!driving_) {
          driving_ = true;
          net::co_spawn(executor_, drive(), net::detached);  // starts after the caller suspends
        }
      },
      net::use_awaitable, &request);
}

void Pipeline::finish(Waiting waiting, VolumeReply reply) {
  net::post(executor_, [handler = std::move(waiting.handler), reply = std::move(reply)]() mutable {
    std::move(handler)(std::move(reply));
  });
}

net::awaitable<void> Pipeline::drive() {
  const auto timeout = volume_.options().io_timeout;
  std::deque<Waiting> in_flight;
  std::vector<net::const_buffer> wire;
  beast::flat_buffer buffer;
  std::optional<Connection> connection;
  bool answered_before = false;  // the connection has worked: a failure may be a dropped keep-alive
  while (!queued_.empty()) {
    if (!connection) {
      auto fresh = co_await volume_.acquire();
      if (!fresh) {
        while (!queued_.empty()) finish(take_front(queued_), fresh.error());
        break;
      }
      connection.emplace(std::move(*fresh));
      answered_before = connection->reused;
      buffer.clear();
    }
    wire.clear();
    std::size_t bytes = 0;
    while (!queued_.empty() && in_flight.size() < max_batch_requests && bytes < max_batch_bytes) {
      WholeRequest& request = *in_flight.emplace_back(take_front(queued_)).request;
      request.sent = true;
      wire.push_back(net::buffer(request.head));
      if (request.body.size()) wire.push_back(request.body);
      bytes += request.head.size() + request.body.size();
    }
    auto& stream = *connection->stream;
    stream.expires_after(timeout);
    auto [ec, written] = co_await net::async_write(stream, wire, as_values);
    bool closing = false;  // the volume announced it closes the connection after this answer
    while (!ec && !closing && !in_flight.empty()) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024);
      stream.expires_after(timeout);
      std::tie(ec, std::ignore) = co_await http::async_read(stream, buffer, parser, as_values);
      if (ec) break;
      answered_before = true;
      closing = !parser.get().keep_alive();
      finish(take_front(in_flight), parser.get().result_int());
    }
    if (!ec && !closing) continue;
    connection.reset();
    // The requests left unanswered go back to the front of the queue, in order, or fail (see
    // after_no_answer). After a failure they may have run, which these idempotent requests
    // make harmless to repeat.
    for (auto it = in_flight.rbegin(); it != in_flight.rend(); ++it) {
      if (after_no_answer(closing, answered_before, it->resent) == Unanswered::resend) {
        it->resent = it->resent || !closing;
        queued_.push_front(std::move(*it));
      } else {
        finish(std::move(*it), transport_error(volume_.volume(), "exchange", ec));
      }
    }
    in_flight.clear();
    // A connection that failed before it ever answered means the volume is down or hung: what
    // queued behind the batch fails now, unsent, instead of waiting out another timeout each.
    if (ec && !answered_before) {
      const Error down = transport_error(volume_.volume(), "exchange", ec);
      while (!queued_.empty()) finish(take_front(queued_), down);
    }
  }
  if (connection) volume_.release(std::move(*connection));
  driving_ = false;
}

Upload::Upload(VolumeConnections& volume, std::string target, std::optional<std::uint64_t> length)
    : volume_(volume), target_(std::move(target)), length_(length) {}

std::string Upload::head() const {
  return "PUT " + target_ + " HTTP/1.1\r\nHost: " + volume_.volume().host + ':' +
         volume_.volume().port + "\r\nContent-Length: " + std::to_string(*length_) + "\r\n\r\n";
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
  request_.target(target_);
  request_.version(11);
  request_.set(http::field::host, volume_.volume().host + ':' + volume_.volume().port);
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
    if (ec) co_return transport_error(volume_.volume(), "write", ec);
    co_return Result<void>{};
  }
  auto& body = request_.body();
  body.data = piece.size() ? const_cast<void*>(piece.data()) : nullptr;
  body.size = piece.size();
  body.more = !last;
  connection_->stream->expires_after(volume_.options().io_timeout);
  auto [ec, n] = co_await http::async_write(*connection_->stream, *serializer_, as_values);
  if (ec && ec != http::error::need_buffer) co_return transport_error(volume_.volume(), "write", ec);
  co_return Result<void>{};
}

net::awaitable<VolumeReply> Upload::finish() {
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  connection_->stream->expires_after(volume_.options().io_timeout);
  auto [ec, n] = co_await http::async_read(*connection_->stream, buffer, parser, as_values);
  if (ec) co_return transport_error(volume_.volume(), "read", ec);
  const unsigned status = parser.get().result_int();
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
  // A body sent whole in one piece can be sent again if a reused keep-alive connection turns
  // out to have been closed by the volume; a streamed body cannot.
  const bool resendable = !started_ && last;
  for (int attempt = 0; attempt < 2; ++attempt) {
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
    if (reply || !(resendable && reused && attempt == 0)) {
      reply_ = std::move(reply);
      if (!reply_->has_value()) connection_.reset();
      co_return;
    }
    connection_.reset();
    started_ = false;
  }
}

Download::Download(VolumeConnections& volume, std::string target)
    : volume_(volume), target_(std::move(target)) {}

net::awaitable<VolumeReply> Download::start() {
  http::request<http::empty_body> request{http::verb::get, target_, 11};
  request.set(http::field::host, volume_.volume().host + ':' + volume_.volume().port);
  const auto timeout = volume_.options().io_timeout;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto connection = co_await volume_.acquire();
    if (!connection) co_return connection.error();
    connection_.emplace(std::move(*connection));
    auto& stream = *connection_->stream;
    stream.expires_after(timeout);
    auto [wec, written] = co_await http::async_write(stream, request, as_values);
    buffer_.consume(buffer_.size());
    parser_.emplace();
    parser_->body_limit(boost::none);
    boost::system::error_code rec;
    if (!wec) {
      stream.expires_after(timeout);
      std::tie(rec, std::ignore) = co_await http::async_read_header(stream, buffer_, *parser_, as_values);
    }
    const auto ec = wec ? wec : rec;
    if (!ec) co_return parser_->get().result_int();
    const bool reused = connection_->reused;
    connection_.reset();
    parser_.reset();
    // GET is idempotent: sent again once when a reused connection turns out closed.
    if (!reused || attempt == 1) co_return transport_error(volume_.volume(), "exchange", ec);
  }
  co_return Error::volume_write_failed("unreachable");
}

std::optional<std::uint64_t> Download::length() const {
  const auto length = parser_->content_length();
  return length ? std::optional<std::uint64_t>(*length) : std::nullopt;
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
      co_return transport_error(volume_.volume(), "read", ec);
    }
  }
  if (parser_->is_done() && connection_) {
    if (parser_->get().keep_alive()) volume_.release(std::move(*connection_));
    connection_.reset();
  }
  co_return filled;
}

VolumeClient::VolumeClient(net::any_io_executor, const std::vector<Volume>& volumes,
                           VolumeOptions options)
    : options_(options) {
  for (const auto& v : volumes) {
    configured_.emplace(v.url, std::make_unique<VolumeConnections>(v, options_));
  }
}

VolumeConnections* VolumeClient::find(std::string_view url) {
  if (auto it = configured_.find(url); it != configured_.end()) return it->second.get();
  std::lock_guard lock(others_mutex_);
  if (auto it = others_.find(url); it != others_.end()) return it->second.get();
  auto v = parse_volume_url(url);
  if (!v) return nullptr;
  auto [it, inserted] = others_.emplace(std::string(url),
                                        std::make_unique<VolumeConnections>(*v, options_));
  return it->second.get();
}

net::awaitable<Result<http::response<http::string_body>>> VolumeClient::exchange(
    VolumeConnections& volume, http::request<http::empty_body> request, std::uint64_t limit) {
  request.version(11);
  request.set(http::field::host, volume.volume().host + ':' + volume.volume().port);
  std::string head;
  append_head(head, request.method_string(), request.target(), request.base());
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto connection = co_await volume.acquire();
    if (!connection) co_return connection.error();
    auto& stream = *connection->stream;
    stream.expires_after(options_.io_timeout);
    auto [wec, written] = co_await net::async_write(stream, net::buffer(head), as_values);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(limit);
    if (request.method() == http::verb::head) parser.skip(true);
    boost::system::error_code rec;
    if (!wec) {
      stream.expires_after(options_.io_timeout);
      std::tie(rec, std::ignore) = co_await http::async_read(stream, buffer, parser, as_values);
    }
    const auto ec = wec ? wec : rec;
    if (!ec) {
      auto response = parser.release();
      if (response.keep_alive()) volume.release(std::move(*connection));
      co_return response;
    }
    // Idempotent requests are sent again once when a reused connection turns out closed.
    if (!connection->reused || attempt == 1) co_return transport_error(volume.volume(), "exchange", ec);
  }
  co_return Error::volume_write_failed("unreachable");
}

net::awaitable<VolumeReply> VolumeClient::remove(std::string_view url, std::string target) {
  auto* volume = find(url);
  if (!volume) co_return Error::volume_write_failed("bad volume URL " + std::string(url));
  WholeRequest request{"DELETE " + target + " HTTP/1.1\r\nHost: " + volume->volume().host + ':' +
                       volume->volume().port + "\r\n\r\n", net::const_buffer()};
  co_return co_await volume->pipelined(request);
}

net::awaitable<VolumeReply> VolumeClient::move(std::string_view url, std::string from,
                                               std::string to) {
  auto* volume = find(url);
  if (!volume) co_return Error::volume_write_failed("bad volume URL " + std::string(url));
  http::request<http::empty_body> request{http::verb::move, from, 11};
  request.set(http::field::destination, to);
  request.set(http::field::overwrite, "T");
  auto response = co_await exchange(*volume, std::move(request), 64 * 1024);
  if (!response) co_return response.error();
  co_return response->result_int();
}

net::awaitable<Result<std::pair<unsigned, std::string>>> VolumeClient::get(std::string_view url,
                                                                            std::string target,
                                                                            std::uint64_t limit) {
  auto* volume = find(url);
  if (!volume) co_return Error::volume_write_failed("bad volume URL " + std::string(url));
  http::request<http::empty_body> request{http::verb::get, target, 11};
  auto response = co_await exchange(*volume, std::move(request), limit);
  if (!response) co_return response.error();
  co_return std::pair<unsigned, std::string>{response->result_int(), std::move(response->body())};
}

}  // namespace mkv
