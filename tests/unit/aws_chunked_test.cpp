// aws-chunked bodies: AWS's published examples (sigv4-streaming.html: 66,560 'a's signed in chunks
// of 65,536, 1,024 and 0 bytes; sigv4-streaming-trailers.html: the same with a signed CRC32C
// trailer), an unsigned-trailer body as botocore sends it, tampered, truncated and malformed
// bodies; each fed whole, byte by byte and split at random, with the same outcome.
//
// Golden values not from AWS's pages were computed apart from mkv with Python 3: the chunk and
// trailer signatures with hmac and hashlib following those pages, and the CRC32 of "hello",
// base64.b64encode(zlib.crc32(b"hello").to_bytes(4, "big")) == b"NhCmhg==".
#include "mkv/aws_chunked.h"
#include "mkv/s3_checksum.h"

#include <doctest/doctest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

using mkv::AwsChunkedDecoder;
using mkv::PayloadMode;
using mkv::s3errc;

namespace {

const mkv::SigningKey doc_key = mkv::derive_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                                        "20130524", "us-east-1", "s3");
constexpr const char* doc_scope = "20130524/us-east-1/s3/aws4_request";
// The seed signatures of AWS's two examples: the signed-chunks PUT and the signed-trailer PUT.
constexpr const char* chunks_seed =
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
constexpr const char* trailer_seed =
    "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";

mkv::ChunkSigning doc_signing(const char* seed) {
  return {doc_key, "20130524T000000Z", doc_scope, seed};
}

std::string chunk(std::size_t size, const std::string& signature) {
  std::string out = size == 0 ? "0" : size == 1024 ? "400" : "10000";
  return out + ";chunk-signature=" + signature + "\r\n" + std::string(size, 'a') +
         (size == 0 ? "" : "\r\n");
}

// The body of sigv4-streaming.html: Content-Length 66824.
const std::string doc_chunks_body =
    chunk(65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648") +
    chunk(1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497") +
    chunk(0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9") + "\r\n";

// The body of sigv4-streaming-trailers.html.
const std::string doc_trailer_body =
    chunk(65536, "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2") +
    chunk(1024, "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7") +
    chunk(0, "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992") +
    "x-amz-checksum-crc32c:sOO8/Q==\r\n"
    "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"
    "\r\n";

// What decoding a body came to.
struct Outcome {
  std::optional<mkv::S3Error> error;  // from feed() or finish()
  std::string data;
  bool finished = false;
  std::uint64_t decoded = 0;
  mkv::Trailers trailers;
};

// Decodes body fed in pieces of the given sizes (the rest as one last piece), then finishes.
Outcome decode(AwsChunkedDecoder decoder, const std::string& body,
               const std::vector<std::size_t>& sizes) {
  Outcome out;
  std::size_t at = 0;
  for (std::size_t i = 0; at < body.size() || i == 0; ++i) {
    const std::size_t n =
        i < sizes.size() ? std::min(sizes[i], body.size() - at) : body.size() - at;
    const std::span<const char> piece(body.data() + at, n);
    at += n;
    auto pieces = decoder.feed(piece);
    if (!pieces) {
      out.error = pieces.error();
      break;
    }
    for (const auto p : *pieces) {
      REQUIRE((p.data() >= piece.data() && p.data() + p.size() <= piece.data() + piece.size()));
      out.data.append(p.data(), p.size());
    }
  }
  if (!out.error) {
    if (auto ended = decoder.finish(); !ended) out.error = ended.error();
  }
  out.finished = decoder.finished();
  out.decoded = decoder.decoded_bytes();
  out.trailers = decoder.trailers();
  // An error sticks: the decoder gives the same one again.
  if (out.error) {
    CHECK(decoder.feed(std::span<const char>("x", 1)).error() == *out.error);
    CHECK(decoder.finish().error() == *out.error);
  }
  return out;
}

// The ways of cutting a body into pieces every test tries: whole, byte by byte, and three
// random cuttings (fixed seeds, so that a failure repeats).
std::vector<std::vector<std::size_t>> cuttings(std::size_t size) {
  std::vector<std::vector<std::size_t>> out = {{}, std::vector<std::size_t>(size, 1)};
  for (const unsigned seed : {1u, 2u, 3u}) {
    std::mt19937 random(seed);
    std::vector<std::size_t> sizes;
    for (std::size_t total = 0; total < size;) {
      sizes.push_back(std::uniform_int_distribution<std::size_t>(0, 200)(random));
      total += sizes.back();
    }
    out.push_back(std::move(sizes));
  }
  return out;
}

// Decodes body in every cutting and checks that each comes to the same outcome; returns it.
Outcome decode_all_ways(const AwsChunkedDecoder& decoder, const std::string& body) {
  const Outcome whole = decode(decoder, body, {});
  for (const auto& sizes : cuttings(body.size())) {
    CAPTURE(sizes.size());
    const Outcome cut = decode(decoder, body, sizes);
    CHECK(cut.error == whole.error);
    // Data before an error depends on where the body was cut; a whole body's does not.
    if (!whole.error) CHECK((cut.data == whole.data));
    CHECK(cut.finished == whole.finished);
    CHECK(cut.trailers == whole.trailers);
  }
  return whole;
}

}  // namespace

TEST_CASE("AWS's signed-chunks example decodes however it is cut") {
  REQUIRE(doc_chunks_body.size() == 66824);
  const AwsChunkedDecoder decoder(PayloadMode::streaming_signed, doc_signing(chunks_seed), 66560);
  const Outcome out = decode_all_ways(decoder, doc_chunks_body);
  CHECK_FALSE(out.error.has_value());
  CHECK(out.finished);
  CHECK(out.decoded == 66560);
  CHECK(out.data == std::string(66560, 'a'));
  CHECK(out.trailers.empty());
  // Cut in two at every place around the chunk headers and the end.
  for (std::size_t at = 0; at < doc_chunks_body.size(); ++at) {
    if (at > 100 && (at < 65580 || at > 65700) && at < doc_chunks_body.size() - 200) continue;
    CAPTURE(at);
    const Outcome two = decode(decoder, doc_chunks_body, {at});
    CHECK_FALSE(two.error.has_value());
    CHECK(two.decoded == 66560);
  }
  // Without x-amz-decoded-content-length it decodes the same.
  CHECK(decode(AwsChunkedDecoder(PayloadMode::streaming_signed, doc_signing(chunks_seed)),
               doc_chunks_body, {})
            .finished);
}

TEST_CASE("AWS's signed-trailer example: chunks, then the CRC32C trailer and its signature") {
  const AwsChunkedDecoder decoder(PayloadMode::streaming_signed_trailer, doc_signing(trailer_seed),
                                  66560);
  const Outcome out = decode_all_ways(decoder, doc_trailer_body);
  CHECK_FALSE(out.error.has_value());
  CHECK(out.finished);
  CHECK(out.data == std::string(66560, 'a'));
  CHECK(out.trailers == mkv::Trailers{{"x-amz-checksum-crc32c", "sOO8/Q=="}});
  const auto claimed = out.trailers.at("x-amz-checksum-crc32c");
  CHECK(mkv::check_checksum(mkv::ChecksumAlgorithm::crc32c, claimed,
                            mkv::checksum_of(mkv::ChecksumAlgorithm::crc32c, out.data))
            .has_value());
}

TEST_CASE("a signed trailer is signed in canonical form: lower-case, trimmed, sorted by name") {
  // Signatures from Python (see the top): the chain of "hello" from the trailer example's seed,
  // and the trailer signature over "x-amz-checksum-crc32:NhCmhg==\nx-amz-meta-b:2\n".
  const std::string body =
      "5;chunk-signature=3b647985a995dfa3292d9c897b8fffd556415a69107f3b42e6807c37b33be989\r\n"
      "hello\r\n"
      "0;chunk-signature=cdd1e2a38047f88c75c657373bef0888ba48429bd66327e1ab1c510ebce59ce1\r\n"
      "x-amz-meta-b: 2\r\n"
      "X-Amz-Checksum-Crc32:NhCmhg==\r\n"
      "x-amz-trailer-signature:c586efe258c88e4dfb5262fc88a0ec102391ff8ea8b82109b8d410baa4fcb9cc\r\n"
      "\r\n";
  const Outcome out = decode_all_ways(
      AwsChunkedDecoder(PayloadMode::streaming_signed_trailer, doc_signing(trailer_seed)), body);
  CHECK_FALSE(out.error.has_value());
  CHECK(out.data == "hello");
  CHECK(out.trailers == mkv::Trailers{{"x-amz-checksum-crc32", "NhCmhg=="}, {"x-amz-meta-b", "2"}});
}

TEST_CASE("an unsigned-trailer body as botocore sends it") {
  const std::string body = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
  const AwsChunkedDecoder decoder(PayloadMode::streaming_unsigned_trailer, {}, 5);
  const Outcome out = decode_all_ways(decoder, body);
  CHECK_FALSE(out.error.has_value());
  CHECK(out.finished);
  CHECK(out.data == "hello");
  CHECK(out.trailers == mkv::Trailers{{"x-amz-checksum-crc32", "NhCmhg=="}});
  mkv::ChecksumStream crc32(mkv::ChecksumAlgorithm::crc32);
  crc32.update(out.data);
  CHECK(mkv::check_checksum(mkv::ChecksumAlgorithm::crc32, out.trailers.at("x-amz-checksum-crc32"),
                            crc32.finish())
            .has_value());
  // Cut in two at every place.
  for (std::size_t at = 0; at <= body.size(); ++at) {
    CAPTURE(at);
    CHECK(decode(decoder, body, {at}).trailers == out.trailers);
  }
  // Other bodies of the same mode: empty, no trailer, upper-case hex sizes, several chunks.
  const struct {
    const char* body;
    const char* data;
  } rows[] = {
      {"0\r\n\r\n", ""},
      {"3\r\nabc\r\n0\r\n\r\n", "abc"},
      {"A\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
      {"2\r\nab\r\n1\r\nc\r\n00\r\n\r\n", "abc"},
      {"4\r\na\r\nb\r\n0\r\n\r\n", "a\r\nb"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.body);
    const Outcome o =
        decode_all_ways(AwsChunkedDecoder(PayloadMode::streaming_unsigned_trailer), r.body);
    CHECK_FALSE(o.error.has_value());
    CHECK(o.data == r.data);
  }
}

TEST_CASE("a tampered signed body is SignatureDoesNotMatch") {
  // Returns body with the byte at changed to c, or to the next character when it is c already.
  const auto tamper = [](std::string body, std::size_t at, char c) {
    body[at] = body[at] == c ? char(c + 1) : c;
    return body;
  };
  const std::size_t second_data = doc_chunks_body.find("\r\n", 65536 + 100) + 2;
  const std::size_t trailer_at = doc_trailer_body.find("sOO8");
  const std::size_t trailer_signature_at = doc_trailer_body.find("d81f82");
  const struct {
    const char* what;
    PayloadMode mode;
    const char* seed;
    std::string body;
  } rows[] = {
      {"a byte of the first chunk", PayloadMode::streaming_signed, chunks_seed,
       tamper(doc_chunks_body, 1000, 'b')},
      {"a byte of the second chunk", PayloadMode::streaming_signed, chunks_seed,
       tamper(doc_chunks_body, second_data + 10, 'b')},
      {"a digit of a chunk signature", PayloadMode::streaming_signed, chunks_seed,
       tamper(doc_chunks_body, 30, '0')},
      {"the last chunk's signature", PayloadMode::streaming_signed, chunks_seed,
       tamper(doc_chunks_body, doc_chunks_body.size() - 10, '0')},
      {"another seed", PayloadMode::streaming_signed, trailer_seed, doc_chunks_body},
      {"the trailer's value", PayloadMode::streaming_signed_trailer, trailer_seed,
       tamper(doc_trailer_body, trailer_at, 'X')},
      {"the trailer signature", PayloadMode::streaming_signed_trailer, trailer_seed,
       tamper(doc_trailer_body, trailer_signature_at, 'e')},
      {"the trailer signature left out", PayloadMode::streaming_signed_trailer, trailer_seed,
       doc_trailer_body.substr(0, trailer_signature_at - 24) + "\r\n"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    const Outcome out = decode(AwsChunkedDecoder(r.mode, doc_signing(r.seed)), r.body, {});
    REQUIRE(out.error.has_value());
    CHECK(out.error->code == s3errc::signature_does_not_match);
    CHECK_FALSE(out.finished);
  }
  // Another key fails on the first chunk.
  auto signing = doc_signing(chunks_seed);
  signing.key[0] ^= 1;
  const Outcome other = decode(AwsChunkedDecoder(PayloadMode::streaming_signed, signing),
                               doc_chunks_body, std::vector<std::size_t>(70000, 1));
  REQUIRE(other.error.has_value());
  CHECK(other.error->message.find("chunk 1 (65536 bytes)") != std::string::npos);
}

TEST_CASE("a truncated body is IncompleteBody at finish(), saying where it stopped") {
  const std::size_t header = doc_chunks_body.find("\r\n") + 2;  // 88 bytes
  REQUIRE(header == 88);
  const struct {
    std::size_t keep;
    const char* says;
  } rows[] = {
      {0, "before its first chunk"},
      {3, "before its 0-size last chunk"},
      {header - 1, "before its 0-size last chunk"},
      {header, "inside chunk 1, 0 of 65536 bytes in"},
      {1000, "inside chunk 1, 912 of 65536 bytes in"},
      {header + 65536, "before the CRLF after chunk 1"},
      {header + 65536 + 1, "before the CRLF after chunk 1"},
      {doc_chunks_body.size() - 2, "before the empty line"},
      {doc_chunks_body.size() - 1, "before the empty line"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.keep);
    const Outcome out =
        decode_all_ways(AwsChunkedDecoder(PayloadMode::streaming_signed, doc_signing(chunks_seed)),
                        doc_chunks_body.substr(0, r.keep));
    REQUIRE(out.error.has_value());
    CHECK(out.error->code == s3errc::incomplete_body);
    CHECK(out.error->message.find(r.says) != std::string::npos);
  }
}

TEST_CASE("malformed bodies are refused with a message that says what is wrong") {
  const auto signed_hello = [](std::string after_last) {
    return "5;chunk-signature=7ca2bb6b96869a322ee00fa7347cadb82c8801d9e36e87e71086051b27939767\r\n"
           "hello\r\n"
           "0;chunk-signature="
           "65ef73b8210158bc1059af76e2c4768ca752fadcda0eac914e4b951213af61f7\r\n" +
           after_last;
  };
  std::string many_trailers = "0\r\n";
  for (int i = 0; i < 17; ++i) many_trailers += "x-amz-meta-" + std::to_string(i) + ":v\r\n";
  const auto u = PayloadMode::streaming_unsigned_trailer;
  const auto s = PayloadMode::streaming_signed;
  const auto t = PayloadMode::streaming_signed_trailer;
  const struct {
    PayloadMode mode;
    std::string body;
    std::optional<std::uint64_t> decoded_length;
    s3errc code;
    const char* says;
    const char* seed = chunks_seed;
  } rows[] = {
      {u, "g\r\nhello\r\n0\r\n\r\n", {}, s3errc::invalid_request, "size in hexadecimal"},
      {u, "\r\n", {}, s3errc::invalid_request, "size in hexadecimal"},
      {u, "5 \r\nhello\r\n0\r\n\r\n", {}, s3errc::invalid_request, "size in hexadecimal"},
      {u, "-5\r\nhello\r\n0\r\n\r\n", {}, s3errc::invalid_request, "size in hexadecimal"},
      {u, "10000000000000000\r\n", {}, s3errc::invalid_request, "size in hexadecimal"},
      {u, "1\r\na\r\nffffffffffffffff\r\n", {}, s3errc::invalid_request, "goes past 2^64"},
      {u, "5\nhello\r\n0\r\n\r\n", {}, s3errc::invalid_request, "LF without CR"},
      {u, "5\r\nhelloX\r\n0\r\n\r\n", {}, s3errc::invalid_request, "not followed by CRLF"},
      {u, "5\r\nhello\n0\r\n\r\n", {}, s3errc::invalid_request, "not followed by CRLF"},
      {u, "5;x=y\r\nhello\r\n0\r\n\r\n", {}, s3errc::invalid_request, "has an extension"},
      {u, "0\r\nx-amz-checksum-crc32\r\n\r\n", {}, s3errc::invalid_request, "not name:value"},
      {u, "0\r\nx amz:1\r\n\r\n", {}, s3errc::invalid_request, "not name:value"},
      {u, "0\r\n:1\r\n\r\n", {}, s3errc::invalid_request, "not name:value"},
      {u, "0\r\na:1\rb\r\n\r\n", {}, s3errc::invalid_request, "control character"},
      {u, "0\r\na:1\r\nA:2\r\n\r\n", {}, s3errc::invalid_request, "sent twice"},
      {u, many_trailers, {}, s3errc::invalid_request, "more than 16 lines"},
      {u,
       "0\r\na:" + std::string(5000, 'v') + "\r\n\r\n",
       {},
       s3errc::invalid_request,
       "longer than 4096 bytes"},
      {u, std::string(5000, '0') + "\r\n\r\n", {}, s3errc::invalid_request, "longer than 4096"},
      {u,
       "0\r\nx-amz-trailer-signature:" + std::string(64, 'a') + "\r\n\r\n",
       {},
       s3errc::invalid_request,
       "unsigned body has an x-amz-trailer-signature"},
      {u, "0\r\n\r\nX", {}, s3errc::invalid_request, "bytes follow the empty line"},
      {u, "5\r\nhello\r\n0\r\n\r\n", 4, s3errc::invalid_request, "goes past"},
      {u, "5\r\nhello\r\n0\r\n\r\n", 6, s3errc::incomplete_body, "holds 5 bytes"},
      {s, "5\r\nhello\r\n0\r\n\r\n", {}, s3errc::invalid_request, "has no ;chunk-signature="},
      {s,
       "5;chunk-signature=7CA2BB6B96869A322EE00FA7347CADB82C8801D9E36E87E71086051B27939767\r\n",
       {},
       s3errc::invalid_request,
       "has no ;chunk-signature="},
      {s, "5;chunk-signature=7ca2bb\r\n", {}, s3errc::invalid_request, "chunk-signature"},
      {s,
       signed_hello("x-amz-checksum-crc32:NhCmhg==\r\n\r\n"),
       {},
       s3errc::invalid_request,
       "has no trailer"},
      {t,
       "5;chunk-signature=7ca2bb6b96869a322ee00fa7347cadb82c8801d9e36e87e71086051b27939767\r\n"
       "hello\r\n",
       {},
       s3errc::signature_does_not_match,
       "chunk 1 (5 bytes)",
       trailer_seed},
      {t,
       doc_trailer_body.substr(0, doc_trailer_body.size() - 2) + "a:1\r\n\r\n",
       {},
       s3errc::invalid_request,
       "must be the last",
       trailer_seed},
      {t,
       doc_trailer_body.substr(0, doc_trailer_body.size() - 4) + "A\r\n\r\n",
       {},
       s3errc::invalid_request,
       "not 64 lower-case hex digits",
       trailer_seed},
      {PayloadMode::sha256, "0\r\n\r\n", {}, s3errc::invalid_request, "STREAMING-*"},
      {PayloadMode::unsigned_payload, "", {}, s3errc::invalid_request, "STREAMING-*"},
  };
  // The signed rows start from a body that is well-formed as it stands.
  CHECK(
      decode(AwsChunkedDecoder(s, doc_signing(chunks_seed), 5), signed_hello("\r\n"), {}).finished);
  for (const auto& r : rows) {
    CAPTURE(r.body.substr(0, 80));
    const Outcome out =
        decode_all_ways(AwsChunkedDecoder(r.mode, doc_signing(r.seed), r.decoded_length), r.body);
    REQUIRE(out.error.has_value());
    CHECK(out.error->code == r.code);
    CHECK(out.error->message.find(r.says) != std::string::npos);
    CHECK_FALSE(out.finished);
  }
}

TEST_CASE("x-amz-decoded-content-length is a number of bytes") {
  CHECK(mkv::parse_decoded_content_length("66560").value() == 66560);
  CHECK(mkv::parse_decoded_content_length(" 0 ").value() == 0);
  CHECK(mkv::parse_decoded_content_length("9999999999999999999").value() == 9999999999999999999ull);
  for (const char* bad : {"", "-1", "1e3", "0x10", "12 3", "99999999999999999999"}) {
    CAPTURE(bad);
    CHECK(mkv::parse_decoded_content_length(bad).error().code == s3errc::invalid_argument);
  }
}
