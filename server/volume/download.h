// One GET of a blob from one volume, its body read in pieces as it arrives.
#pragma once

#include "pool.h"
#include "transport.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mkv {

// One GET of a blob from one volume, its body read in pieces as it arrives. Destroying an
// unfinished download closes its connection.
class Download {
 public:
  // extra_fields: request header lines to send too, each ending in "\r\n" (a Range).
  Download(VolumePool& volume, std::string target, std::string extra_fields = {});
  Download(const Download&) = delete;
  Download& operator=(const Download&) = delete;

  // Sends the request and reads the response header; returns the status. A reused keep-alive
  // connection found closed is replaced once.
  net::awaitable<VolumeReply> start();
  // Returns the body length the volume declared, or nullopt for a chunked body.
  std::optional<std::uint64_t> length() const;
  // Returns a field of the response header ("" without it). Call only after start().
  std::string_view field(http::field name) const;
  // Fills out with the next bytes of the body; returns fewer only at its end (then done()).
  // Call only after start() returned a status.
  net::awaitable<Result<std::size_t>> read(std::span<char> out);
  // Returns whether the whole body has been read.
  bool done() const { return parser_ && parser_->is_done(); }
  const Volume& volume() const { return volume_.volume(); }

 private:
  VolumePool& volume_;
  std::string target_;
  std::string extra_fields_;
  std::optional<Connection> connection_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
};

}  // namespace mkv
