// Small idempotent requests pipelined on one keep-alive connection (see pipeline.h).
#include "pipeline.h"

#include "pool.h"

#include "mkv/volume_answer.h"

#include <optional>
#include <tuple>
#include <utility>
#include <vector>

namespace mkv {

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
      volume_.observe_status(parser.get().result_int(), "a pipelined request");
      finish(take_front(in_flight), parser.get().result_int());
    }
    if (!ec && !closing) continue;
    connection.reset();
    const bool timed_out = ec == beast::error::timeout;
    if (ec) volume_.observe(Seen::failed, transport_error(volume_.volume(), "exchange", ec).detail);
    // The requests left unanswered go back to the front of the queue, in order, or fail (see
    // after_no_answer). After a failure they may have run, which these idempotent requests
    // make harmless to repeat.
    for (auto it = in_flight.rbegin(); it != in_flight.rend(); ++it) {
      if (after_no_answer(closing, answered_before, it->resent, timed_out) == Unanswered::resend) {
        it->resent = it->resent || !closing;
        queued_.push_front(std::move(*it));
      } else {
        finish(std::move(*it), transport_error(volume_.volume(), "exchange", ec));
      }
    }
    in_flight.clear();
    // A connection that failed before it ever answered, or timed out, means the volume is down
    // or hung: what queued behind the batch fails now, unsent, instead of waiting out another
    // timeout each.
    if (ec && (!answered_before || timed_out)) {
      const Error down = transport_error(volume_.volume(), "exchange", ec);
      while (!queued_.empty()) finish(take_front(queued_), down);
    }
  }
  if (connection) volume_.release(std::move(*connection));
  driving_ = false;
}

}  // namespace mkv
