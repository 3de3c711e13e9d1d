// The volumes of a process and the requests that need no streaming (see client.h).
#include "client.h"

#include "pipeline.h"

#include "mkv/volume_answer.h"

#include <mutex>
#include <tuple>

namespace mkv {

Result<VolumePool*> VolumeClient::pool(std::string_view url) {
  {
    const std::shared_lock lock(mutex_);
    if (auto it = pools_.find(url); it != pools_.end()) return it->second.get();
  }
  auto volume = parse_volume_url(url);
  if (!volume) return volume.error();
  const std::unique_lock lock(mutex_);
  auto [it, inserted] = pools_.try_emplace(std::string(url), nullptr);
  if (inserted) {
    it->second = std::make_unique<VolumePool>(std::move(*volume), options_, &unhealthy_);
  }
  return it->second.get();
}

std::vector<VolumeState> VolumeClient::states(std::span<const std::string> urls) {
  std::vector<VolumeState> out;
  out.reserve(urls.size());
  for (const auto& url : urls) {
    auto volume = pool(url);
    out.push_back(volume ? (*volume)->state() : VolumeState::up);
  }
  return out;
}

namespace {

// Sends a request without a body (head: as request_head() makes it) and reads the whole
// answer, its body up to limit bytes. An idempotent request is sent again once when a reused
// keep-alive connection turns out closed.
net::awaitable<Result<http::response<http::string_body>>> exchange(VolumePool& volume,
                                                                   std::string head,
                                                                   std::uint64_t limit) {
  const auto timeout = volume.options().io_timeout;
  for (bool resent = false;; resent = true) {
    auto connection = co_await volume.acquire();
    if (!connection) co_return connection.error();
    auto& stream = *connection->stream;
    stream.expires_after(timeout);
    auto [wec, written] = co_await net::async_write(stream, net::buffer(head), as_values);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(limit);
    boost::system::error_code rec;
    if (!wec) {
      stream.expires_after(timeout);
      std::tie(rec, std::ignore) = co_await http::async_read(stream, buffer, parser, as_values);
    }
    const auto ec = wec ? wec : rec;
    if (!ec) {
      auto response = parser.release();
      volume.observe_status(response.result_int(), head.substr(0, head.find(' ')));
      if (response.keep_alive()) volume.release(std::move(*connection));
      co_return response;
    }
    Error error = transport_error(volume.volume(), "exchange", ec);
    volume.observe(Seen::failed, error.detail);
    if (after_no_answer(false, connection->reused, resent, ec == beast::error::timeout) ==
        Unanswered::fail) {
      co_return error;
    }
  }
}

}  // namespace

net::awaitable<VolumeReply> volume_delete(VolumePool& volume, std::string target) {
  WholeRequest request{
      request_head("DELETE", target, volume.volume(), volume.options().signing),
      net::const_buffer()};
  co_return co_await volume.pipelined(request);
}

net::awaitable<VolumeReply> volume_move(VolumePool& volume, std::string from, std::string to) {
  std::string fields = "Destination: " + to + "\r\nOverwrite: T\r\n";
  auto response = co_await exchange(
      volume, request_head("MOVE", from, volume.volume(), volume.options().signing, fields),
      64 * 1024);
  if (!response) co_return response.error();
  co_return response->result_int();
}

net::awaitable<Result<Fetched>> volume_get(VolumePool& volume, std::string target,
                                           std::uint64_t limit) {
  auto response = co_await exchange(
      volume, request_head("GET", target, volume.volume(), volume.options().signing), limit);
  if (!response) co_return response.error();
  co_return Fetched{response->result_int(), std::move(response->body()),
                    std::string((*response)[http::field::date]),
                    std::string((*response)[http::field::last_modified])};
}

}  // namespace mkv
