// A reply sent before the work it answers is done, as S3's CompleteMultipartUpload sends it: the
// status and fields at once, then the body in chunks as it is made, with a space whenever the
// work has been silent for a while, so that a client's read timeout does not fire during a long
// concatenation (botocore's is 60 s). A failure after the status is sent is an <Error> document
// in the 200's body, which S3's clients look for.
#pragma once

#include "asio.h"
#include "http/reply.h"

#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace mkv {

class EarlyReply {
 public:
  // How long the body may stay silent before a space is sent.
  static constexpr std::chrono::seconds keep_alive_interval{10};

  // Writes to the connection's stream, each write within timeout; version and keep_alive are
  // the request's; a space goes out after interval of silence.
  EarlyReply(beast::tcp_stream& stream, std::chrono::seconds timeout, unsigned version,
             bool keep_alive, std::chrono::milliseconds interval = keep_alive_interval)
      : stream_(stream),
        timeout_(timeout),
        version_(version),
        keep_alive_(keep_alive),
        interval_(interval) {}

  // Sends head's status and fields (its body is ignored; the body follows in chunks).
  net::awaitable<void> start(Reply head);
  // Sends text as the next piece of the body.
  net::awaitable<void> send(std::string_view text);
  // Sends a space if the body has been silent for the interval.
  net::awaitable<void> keep_alive();
  // Ends the body.
  net::awaitable<void> finish();

  // Returns whether the reply's status has been sent (the connection then sends nothing else
  // for this request).
  bool started() const { return started_; }
  // Returns whether a write failed: the connection is then closed.
  bool failed() const { return failed_; }

 private:
  net::awaitable<void> write(std::string_view wire);

  beast::tcp_stream& stream_;
  std::chrono::seconds timeout_;
  unsigned version_;
  bool keep_alive_;
  std::chrono::milliseconds interval_;
  bool started_ = false;
  bool failed_ = false;
  std::chrono::steady_clock::time_point last_write_{};
};

}  // namespace mkv
