// The body of a PutObject as the PUT path reads it: the object's bytes, decoded from an aws-chunked
// body or as sent, with the claimed x-amz-checksum-* computed on the way (mkv/s3_put_body.h says
// which). The read that hands out the object's last byte first reads the rest of the body and
// verifies it (every chunk and trailer signature, the checksum), so a body that fails its checks
// never completes a volume's upload: that read fails instead, and nothing is stored.
#pragma once

#include "http/body_source.h"
#include "http/request_body.h"

#include "mkv/aws_chunked.h"
#include "mkv/error.h"
#include "mkv/s3_checksum.h"
#include "mkv/s3_error.h"
#include "mkv/s3_put_body.h"
#include "mkv/sigv4.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace mkv {

// A PutObject's body read as its plan says, never whole in memory (at most one read of the
// client's body besides the caller's piece).
class S3Body final : public BodySource {
 public:
  // Reads body (which must outlive this) as plan says; auth signs the chunks of a signed
  // aws-chunked body.
  S3Body(RequestBody& body, PutBodyPlan plan, const Authenticated& auth);
  S3Body(const S3Body&) = delete;  // pending_ points into raw_
  S3Body& operator=(const S3Body&) = delete;

  // Returns the object's length (x-amz-decoded-content-length for an aws-chunked body).
  std::optional<std::uint64_t> length() const override { return plan_.length; }
  // Returns whether the whole body has been read and verified.
  bool done() const override { return verified_; }
  net::awaitable<Result<void>> begin() override { return body_.begin(); }
  // Fills out with the object's next bytes; returns fewer only at its end (then done()). Fails
  // (bad_request, failure() saying why in S3's terms) when the body fails a check, before the
  // object's last byte is handed out.
  net::awaitable<Result<std::size_t>> read(std::span<char> out) override;

  // Returns the S3 error the body was refused with (SignatureDoesNotMatch, BadDigest,
  // IncompleteBody, InvalidRequest, ...), or nothing.
  const std::optional<S3Error>& failure() const { return failure_; }
  // Returns the checksum header S3 echoes in its reply and its value ("x-amz-checksum-crc32",
  // "NhCmhg=="), once the body is verified against a claimed checksum; nothing otherwise.
  std::optional<std::pair<std::string, std::string>> checksum_header() const;

 private:
  net::awaitable<Result<std::size_t>> read_as_sent(std::span<char> out);
  net::awaitable<Result<std::size_t>> read_chunked(std::span<char> out);
  // Reads what follows the object's last byte in an aws-chunked body (the last chunk, the
  // trailer), then verifies the whole body.
  net::awaitable<Result<void>> read_rest();
  // Checks the ended body's trailer and checksum; marks it verified.
  Result<void> verify();
  // Keeps error as the body's failure; returns the native error read() answers with.
  Error fail(S3Error error);

  RequestBody& body_;
  PutBodyPlan plan_;
  std::optional<AwsChunkedDecoder> decoder_;  // when aws-chunked
  std::optional<ChecksumStream> checksum_;    // when a checksum is claimed
  std::string computed_;                      // its value once verified
  std::vector<char> raw_;                     // aws-chunked: one read of the body as sent
  DecodedPieces pending_;                     // the decoded data in raw_ not handed out yet
  std::size_t pending_at_ = 0;                // the first piece of pending_ not handed out
  std::uint64_t handed_ = 0;                  // the object's bytes handed out
  bool verified_ = false;
  std::optional<S3Error> failure_;
};

}  // namespace mkv
