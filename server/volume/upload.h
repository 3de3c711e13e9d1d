// One PUT of a body to one volume, sent in pieces as the body arrives.
#pragma once

#include "pool.h"
#include "transport.h"

#include "mkv/rollback.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mkv {

// One PUT of a body to one volume, sent in pieces as the body arrives. Destroying an
// unfinished upload closes its connection, so the volume discards the partial body.
class Upload {
 public:
  // length: the body size if known (sent as Content-Length), else the body is sent chunked.
  Upload(VolumePool& volume, std::string target, std::optional<std::uint64_t> length);
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  // Sends the next piece of the body; `last` ends it and reads the volume's answer. Does
  // nothing once the upload has failed.
  net::awaitable<void> send(net::const_buffer piece, bool last);

  // Returns what became of the upload (put_outcome in mkv/rollback.h).
  WriteOutcome outcome() const {
    return put_outcome(reply_ && reply_->has_value() ? std::optional<unsigned>(**reply_)
                                                     : std::nullopt,
                       body_sent_);
  }
  // Returns whether the volume stored the body.
  bool stored() const { return outcome() == WriteOutcome::stored; }
  // Returns the volume's answer, or why there is none (empty before the last piece).
  const std::optional<VolumeReply>& reply() const { return reply_; }
  const Volume& volume() const { return volume_.volume(); }
  const std::string& target() const { return target_; }

 private:
  std::string head() const;  // the request head, with a known length
  net::awaitable<Result<void>> start();
  net::awaitable<void> send_pipelined(net::const_buffer body);
  net::awaitable<Result<void>> write_piece(net::const_buffer piece, bool last);
  net::awaitable<VolumeReply> finish();
  // Returns the error of a failed write or read (what), recording it with the volume's health.
  Error failure(std::string_view what, const boost::system::error_code& ec);

  VolumePool& volume_;
  std::string target_;
  std::optional<std::uint64_t> length_;
  std::optional<Connection> connection_;
  std::string head_;  // with a length: the request head, until the first piece takes it along
  http::request<http::buffer_body> request_;  // without a length: the chunked request
  std::optional<http::request_serializer<http::buffer_body>> serializer_;
  std::optional<VolumeReply> reply_;
  bool started_ = false;
  bool body_sent_ = false;  // the last piece went out
  bool timed_out_ = false;  // the last failure was the volume saying nothing for io_timeout
};

}  // namespace mkv
