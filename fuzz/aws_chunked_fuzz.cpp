// libFuzzer target: the aws-chunked decoder (include/mkv/aws_chunked.h).
// The first byte picks the payload mode (its low two bits: signed chunks, signed chunks and
// trailer, unsigned trailer) and a piece size (the rest); the other bytes are the body, signed,
// when the mode signs, with the key and seed signatures of AWS's examples. Checks: the body cut
// into pieces of that size (and byte by byte, when short) decodes to the same outcome as whole;
// every decoded piece lies in the bytes it came from and they add up to decoded_bytes(); an
// error is one the decoder documents and sticks; a finished body finishes again with its length
// declared, fails with one byte more or less declared, has a trailer within the limits, and, when
// unsigned, decodes the same once encoded again in other chunks.
#include <boost/url/src.hpp>

#include "mkv/aws_chunked.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

mkv::ChunkSigning signing_for(mkv::PayloadMode mode) {
  static const mkv::SigningKey key = mkv::derive_signing_key(
      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3");
  // The seeds of sigv4-streaming.html and sigv4-streaming-trailers.html.
  const char* seed = mode == mkv::PayloadMode::streaming_signed
                         ? "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
                         : "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
  return {key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", seed};
}

struct Outcome {
  std::optional<mkv::S3Error> error;
  std::string data;
  bool finished = false;
  mkv::Trailers trailers;
};

// Decodes body in pieces of step bytes (0: whole), checking what every feed() must keep.
Outcome decode(mkv::AwsChunkedDecoder decoder, std::string_view body, std::size_t step) {
  Outcome out;
  std::size_t at = 0;
  do {
    const std::size_t n = step == 0 ? body.size() : std::min(step, body.size() - at);
    const std::span<const char> in(body.data() + at, n);
    at += n;
    const auto pieces = decoder.feed(in);
    if (!pieces) {
      out.error = pieces.error();
      break;
    }
    for (const auto piece : *pieces) {
      require(!piece.empty());
      require(piece.data() >= in.data() && piece.data() + piece.size() <= in.data() + in.size());
      out.data.append(piece.data(), piece.size());
    }
  } while (at < body.size());
  if (!out.error) {
    if (const auto ended = decoder.finish(); !ended) out.error = ended.error();
  }
  // A failed feed() hands back none of its pieces, though the decoder counted them.
  require(out.error ? out.data.size() <= decoder.decoded_bytes()
                    : out.data.size() == decoder.decoded_bytes());
  out.finished = decoder.finished();
  out.trailers = decoder.trailers();
  if (out.error) {
    using mkv::s3errc;
    const auto code = out.error->code;
    require(code == s3errc::invalid_request || code == s3errc::incomplete_body ||
            code == s3errc::signature_does_not_match);
    require(!out.error->message.empty());
    require(!out.finished);
    // The error sticks.
    const auto again = decoder.feed(std::span<const char>("\r\n", 2));
    require(!again && again.error() == *out.error);
    const auto finished_again = decoder.finish();
    require(!finished_again && finished_again.error() == *out.error);
  } else {
    require(out.finished);
    require(decoder.finish().has_value());
  }
  return out;
}

void require_same(const Outcome& a, const Outcome& b) {
  require(a.error == b.error);
  require(a.finished == b.finished);
  require(a.trailers == b.trailers);
  if (!a.error) require(a.data == b.data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const mkv::PayloadMode modes[] = {
      mkv::PayloadMode::streaming_signed,
      mkv::PayloadMode::streaming_signed_trailer,
      mkv::PayloadMode::streaming_unsigned_trailer,
      mkv::PayloadMode::streaming_unsigned_trailer,
  };
  const auto mode = modes[data[0] & 3];
  const std::size_t step = 1 + (data[0] >> 2);
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const mkv::AwsChunkedDecoder decoder(mode, signing_for(mode));

  const Outcome whole = decode(decoder, body, 0);
  require_same(whole, decode(decoder, body, step));
  if (body.size() <= 2048) require_same(whole, decode(decoder, body, 1));
  if (whole.error) return 0;

  require(whole.trailers.size() <= mkv::AwsChunkedDecoder::max_trailers);
  for (const auto& [name, value] : whole.trailers) {
    require(!name.empty() && name.find(':') == std::string::npos);
    require(std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
    require(name != "x-amz-trailer-signature");
    require(value.find('\r') == std::string::npos && value.find('\n') == std::string::npos);
  }

  // Declared lengths: the right one passes, one more is IncompleteBody, one less is refused.
  const std::uint64_t length = whole.data.size();
  require(decode(mkv::AwsChunkedDecoder(mode, signing_for(mode), length), body, step).finished);
  const auto longer = decode(mkv::AwsChunkedDecoder(mode, signing_for(mode), length + 1), body, 0);
  require(longer.error && longer.error->code == mkv::s3errc::incomplete_body);
  if (length > 0) {
    const auto shorter =
        decode(mkv::AwsChunkedDecoder(mode, signing_for(mode), length - 1), body, 0);
    require(shorter.error && shorter.error->code == mkv::s3errc::invalid_request);
  }

  // An unsigned body encoded again in chunks of step bytes decodes to the same data and trailer.
  if (mode == mkv::PayloadMode::streaming_unsigned_trailer) {
    std::string again;
    for (std::size_t at = 0; at < whole.data.size(); at += step) {
      const std::string_view chunk = std::string_view(whole.data).substr(at, step);
      static constexpr char digits[] = "0123456789abcdef";
      std::string hex;
      for (std::size_t n = chunk.size(); n > 0; n /= 16) hex.insert(hex.begin(), digits[n % 16]);
      again += hex + "\r\n";
      again += chunk;
      again += "\r\n";
    }
    again += "0\r\n";
    for (const auto& [name, value] : whole.trailers) again += name + ':' + value + "\r\n";
    again += "\r\n";
    require_same(whole, decode(decoder, again, 0));
  }
  return 0;
}
