// The body of the request being handled (see request_body.h).
#include "request_body.h"

#include "asio.h"

#include <algorithm>

namespace mkv {

namespace {


}  // namespace

net::awaitable<Result<void>> RequestBody::continue_if_expected() {
  if (continued_ || parser_.is_done()) co_return Result<void>{};
  continued_ = true;
  const auto expect = parser_.get()[http::field::expect];
  if (!beast::iequals(expect, "100-continue")) co_return Result<void>{};
  http::response<http::empty_body> go_on{http::status::continue_, parser_.get().version()};
  stream_.expires_after(timeout_);
  auto [ec, n] = co_await http::async_write(stream_, go_on, as_values);
  if (ec) co_return Error::bad_request("client connection: " + ec.message());
  co_return Result<void>{};
}

net::awaitable<Result<std::size_t>> RequestBody::read(std::span<char> out) {
  const auto start = std::chrono::steady_clock::now();
  std::size_t filled = 0;
  while (filled < out.size() && !parser_.is_done()) {
    auto& body = parser_.get().body();
    body.data = out.data() + filled;
    body.size = out.size() - filled;
    // Each read must bring bytes within the timeout (a stall), and once the timeout has passed
    // the bytes must keep coming at min_body_rate on average (a trickle). A steady client is
    // never cut for taking longer than the timeout to fill a whole piece.
    const auto earned =
        start + timeout_ + std::chrono::milliseconds(filled * 1000 / min_body_rate);
    stream_.expires_at(std::min(std::chrono::steady_clock::now() + timeout_, earned));
    auto [ec, n] = co_await http::async_read_some(stream_, buffer_, parser_, as_values);
    filled = out.size() - body.size;
    if (ec && ec != http::error::need_buffer) {
      co_return Error::bad_request("request body: " + ec.message());
    }
  }
  received_ += filled;
  co_return filled;
}

}  // namespace mkv
