// A reply sent before its work is done (see early_reply.h).
#include "s3/early_reply.h"

#include <boost/asio.hpp>

#include <cstdio>

namespace mkv {

net::awaitable<void> EarlyReply::start(Reply head) {
  head.version(version_);
  head.keep_alive(keep_alive_);
  head.body().clear();
  head.erase(http::field::content_length);
  head.set(http::field::transfer_encoding, "chunked");
  std::string wire;
  write_head(head, wire);
  started_ = true;
  co_await write(wire);
}

net::awaitable<void> EarlyReply::send(std::string_view text) {
  if (text.empty()) co_return;  // an empty chunk would end the body
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", text.size());
  std::string wire(size, std::size_t(n));
  wire.append(text).append("\r\n");
  co_await write(wire);
}

net::awaitable<void> EarlyReply::keep_alive() {
  if (!started_ || failed_) co_return;
  if (std::chrono::steady_clock::now() - last_write_ < interval_) co_return;
  co_await send(" ");
}

net::awaitable<void> EarlyReply::finish() {
  co_await write("0\r\n\r\n");
}

net::awaitable<void> EarlyReply::write(std::string_view wire) {
  if (failed_) co_return;
  stream_.expires_after(timeout_);
  auto [ec, written] = co_await net::async_write(stream_, net::buffer(wire), as_values);
  failed_ = failed_ || ec;
  last_write_ = std::chrono::steady_clock::now();
}

}  // namespace mkv
