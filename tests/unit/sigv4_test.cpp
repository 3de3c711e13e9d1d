// SigV4: AWS's published examples (the S3 GET with a Range, the aws-chunked upload of 66,560
// bytes and its chunk signatures) and requests signed by botocore 1.29 (Debian's boto3) with a
// fixed clock, so that mkv checks what real clients send. Neither set was made by mkv's code.
#include "mkv/sigv4.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

using mkv::Header;
using mkv::s3errc;

namespace {

constexpr const char* doc_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* boto_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// A key lookup over a table of access key -> secret, deriving each key as the server would.
mkv::KeyLookup keys(std::map<std::string, std::string> secrets) {
  return
      [secrets = std::move(secrets)](const mkv::Credential& c) -> std::optional<mkv::SigningKey> {
        const auto it = secrets.find(c.access_key);
        if (it == secrets.end()) return std::nullopt;
        return mkv::derive_signing_key(it->second, c.date, c.region, c.service);
      };
}

std::int64_t at(const char* amz_date) {
  return mkv::parse_amz_date(amz_date).value();
}

// The GET example of sig-v4-header-based-auth.html: examplebucket/test.txt, Range bytes=0-9.
const std::vector<Header> doc_get_headers = {
    {"Host", "examplebucket.s3.amazonaws.com"},
    {"Range", "bytes=0-9"},
    {"x-amz-content-sha256", mkv::empty_sha256},
    {"x-amz-date", "20130524T000000Z"},
    {"Authorization",
     "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
     "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
     "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
};

}  // namespace

TEST_CASE("AWS's GET example authenticates, and every part of it matters") {
  const auto lookup = keys({{"AKIAIOSFODNN7EXAMPLE", doc_secret}});
  const mkv::SignedRequest request{"GET", "/test.txt", "", doc_get_headers, at("20130524T000000Z")};
  const auto ok = mkv::authenticate(request, lookup);
  REQUIRE(ok.has_value());
  CHECK(ok->credential.access_key == "AKIAIOSFODNN7EXAMPLE");
  CHECK(ok->credential.scope() == "20130524/us-east-1/s3/aws4_request");
  CHECK(ok->payload == mkv::PayloadMode::sha256);
  CHECK(ok->payload_sha256 == mkv::empty_sha256);
  CHECK_FALSE(ok->presigned);

  const struct {
    const char* what;
    mkv::SignedRequest request;
    mkv::KeyLookup lookup;
    s3errc code;
  } rows[] = {
      {"another secret", request, keys({{"AKIAIOSFODNN7EXAMPLE", boto_secret}}),
       s3errc::signature_does_not_match},
      {"an unknown access key", request, keys({{"AKIDEXAMPLE", doc_secret}}),
       s3errc::invalid_access_key_id},
      {"another method",
       {"HEAD", "/test.txt", "", doc_get_headers, request.now},
       lookup,
       s3errc::signature_does_not_match},
      {"another path",
       {"GET", "/test.txt2", "", doc_get_headers, request.now},
       lookup,
       s3errc::signature_does_not_match},
      {"a query added",
       {"GET", "/test.txt", "uploads", doc_get_headers, request.now},
       lookup,
       s3errc::signature_does_not_match},
      {"16 minutes late",
       {"GET", "/test.txt", "", doc_get_headers, request.now + 16 * 60},
       lookup,
       s3errc::request_time_too_skewed},
      {"16 minutes early",
       {"GET", "/test.txt", "", doc_get_headers, request.now - 16 * 60},
       lookup,
       s3errc::request_time_too_skewed},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    const auto refused = mkv::authenticate(r.request, r.lookup);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == r.code);
  }
  // 14 minutes either way is within the allowed skew.
  CHECK(mkv::authenticate({"GET", "/test.txt", "", doc_get_headers, request.now + 14 * 60}, lookup)
            .has_value());
  CHECK(mkv::authenticate({"GET", "/test.txt", "", doc_get_headers, request.now - 14 * 60}, lookup)
            .has_value());
}

TEST_CASE("a changed signed header value fails; a changed unsigned one does not") {
  const auto lookup = keys({{"AKIAIOSFODNN7EXAMPLE", doc_secret}});
  auto headers = doc_get_headers;
  headers[1].value = "bytes=0-10";
  auto refused =
      mkv::authenticate({"GET", "/test.txt", "", headers, at("20130524T000000Z")}, lookup);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == s3errc::signature_does_not_match);

  headers = doc_get_headers;
  headers.push_back({"User-Agent", "curl"});
  CHECK(mkv::authenticate({"GET", "/test.txt", "", headers, at("20130524T000000Z")}, lookup)
            .has_value());

  headers = doc_get_headers;
  headers.erase(headers.begin() + 1);  // Range is signed but no longer sent
  refused = mkv::authenticate({"GET", "/test.txt", "", headers, at("20130524T000000Z")}, lookup);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == s3errc::signature_does_not_match);
  CHECK(refused.error().message.find("range") != std::string::npos);
}

TEST_CASE("requests signed by botocore authenticate") {
  const auto lookup = keys({{"AKIDEXAMPLE", boto_secret}});
  const std::int64_t now = at("20261201T030000Z");
  SUBCASE("ListObjectsV2 with escapes in the query (space, '+', '/')") {
    const std::vector<Header> headers = {
        {"Host", "127.0.0.1:9000"},
        {"X-Amz-Date", "20261201T030000Z"},
        {"X-Amz-Content-SHA256", mkv::empty_sha256},
        {"Authorization",
         "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/s3/aws4_request, "
         "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
         "Signature=88a7e4827f9d4333108cff34d4ce5b76382ed0f3d71466e6f1d779b4f2ea8829"}};
    CHECK(mkv::authenticate(
              {"GET", "/bucket", "list-type=2&prefix=a%20b%2Bc&delimiter=%2F&encoding-type=url",
               headers, now},
              lookup)
              .has_value());
    // The same parameters in another order are the same canonical query.
    CHECK(mkv::authenticate(
              {"GET", "/bucket", "encoding-type=url&delimiter=%2f&prefix=a%20b%2Bc&list-type=2",
               headers, now},
              lookup)
              .has_value());
  }
  SUBCASE("UploadPart of a key with UTF-8, space, '!' and '()', region eu-west-2") {
    const std::vector<Header> headers = {
        {"Content-Type", "text/plain"},
        {"x-amz-meta-note", "  two   spaces  "},
        {"X-Amz-Date", "20261201T030000Z"},
        {"X-Amz-Content-SHA256",
         "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
        {"Host", "127.0.0.1:9000"},
        {"Authorization",
         "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/eu-west-2/s3/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-note, "
         "Signature=b7b14dd5d84dec41cff939aebf2012c98b9f68fc7aaec124f367827ac7245974"}};
    const auto ok = mkv::authenticate({"PUT", "/bucket/%C3%BCber%20dir/file%21%28x%29.txt",
                                       "partNumber=3&uploadId=abc", headers, now},
                                      lookup);
    REQUIRE(ok.has_value());
    CHECK(ok->credential.region == "eu-west-2");
    CHECK(ok->payload_sha256 == mkv::sha256_hex("hello"));
    // A client that leaves '!', '(' and ')' unescaped signs the same canonical URI.
    CHECK(mkv::authenticate({"PUT", "/bucket/%C3%BCber%20dir/file!(x).txt",
                             "partNumber=3&uploadId=abc", headers, now},
                            lookup)
              .has_value());
  }
  SUBCASE("a presigned GET, valid for an hour") {
    const char* query =
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261201%2Fus-east-1%2Fs3"
        "%2Faws4_request&X-Amz-Date=20261201T030000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=3a38ed87fa4404d89f09403a74adb25a0e43764a92974cf9b92caf8042697e59";
    const std::vector<Header> headers = {{"Host", "127.0.0.1:9000"}, {"User-Agent", "curl/7.88"}};
    const auto ok = mkv::authenticate({"GET", "/bucket/key%20one", query, headers, now}, lookup);
    REQUIRE(ok.has_value());
    CHECK(ok->presigned);
    CHECK(ok->payload == mkv::PayloadMode::unsigned_payload);
    CHECK(mkv::authenticate({"GET", "/bucket/key%20one", query, headers, now + 3600}, lookup)
              .has_value());

    const struct {
      const char* what;
      const char* method;
      const char* path;
      std::int64_t now;
      s3errc code;
    } rows[] = {
        {"expired", "GET", "/bucket/key%20one", now + 3601, s3errc::access_denied},
        {"not valid yet", "GET", "/bucket/key%20one", now - 16 * 60,
         s3errc::request_time_too_skewed},
        {"another key", "GET", "/bucket/key%20two", now, s3errc::signature_does_not_match},
        {"another method", "DELETE", "/bucket/key%20one", now, s3errc::signature_does_not_match},
    };
    for (const auto& r : rows) {
      CAPTURE(r.what);
      const auto refused = mkv::authenticate({r.method, r.path, query, headers, r.now}, lookup);
      REQUIRE_FALSE(refused.has_value());
      CHECK(refused.error().code == r.code);
    }
    const std::vector<Header> other_host = {{"Host", "127.0.0.1:9001"}};
    const auto refused =
        mkv::authenticate({"GET", "/bucket/key%20one", query, other_host, now}, lookup);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == s3errc::signature_does_not_match);
  }
}

TEST_CASE("an unsigned request is AccessDenied, a SigV2 one NotImplemented") {
  const auto lookup = keys({{"AKIDEXAMPLE", boto_secret}});
  const std::vector<Header> bare = {{"Host", "127.0.0.1:9000"}};
  auto refused = mkv::authenticate({"GET", "/bucket/key", "", bare, 0}, lookup);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == s3errc::access_denied);

  const std::vector<Header> v2 = {
      {"Host", "127.0.0.1:9000"},
      {"Authorization", "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="}};
  refused = mkv::authenticate({"GET", "/bucket/key", "", v2, 0}, lookup);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == s3errc::not_implemented);

  // What boto3 1.26 presigns by default: a SigV2 query.
  refused = mkv::authenticate(
      {"GET", "/bucket/key", "AWSAccessKeyId=AKIDEXAMPLE&Signature=5f45a%3D&Expires=1796094670",
       bare, 0},
      lookup);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == s3errc::not_implemented);
  CHECK(refused.error().message.find("s3v4") != std::string::npos);
}

TEST_CASE("AWS's aws-chunked example: the seed signature and each chunk's") {
  const auto lookup = keys({{"AKIAIOSFODNN7EXAMPLE", doc_secret}});
  const std::vector<Header> headers = {
      {"Host", "s3.amazonaws.com"},
      {"x-amz-date", "20130524T000000Z"},
      {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
       "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
       "x-amz-decoded-content-length;x-amz-storage-class,"
       "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"},
      {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
      {"Content-Encoding", "aws-chunked"},
      {"x-amz-decoded-content-length", "66560"},
      {"Content-Length", "66824"},
  };
  const auto ok = mkv::authenticate(
      {"PUT", "/examplebucket/chunkObject.txt", "", headers, at("20130524T000000Z")}, lookup);
  REQUIRE(ok.has_value());
  CHECK(ok->payload == mkv::PayloadMode::streaming_signed);

  const struct {
    std::size_t size;
    const char* signature;
  } chunks[] = {
      {65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"},
      {1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"},
      {0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
  };
  std::string previous = ok->signature;
  for (const auto& c : chunks) {
    CAPTURE(c.size);
    const auto text = mkv::chunk_string_to_sign(ok->amz_date, ok->credential.scope(), previous,
                                                mkv::sha256_hex(std::string(c.size, 'a')));
    previous = mkv::sign(ok->key, text);
    CHECK(previous == c.signature);
  }
  // A signed trailer chains to the last (empty) chunk; the value was computed apart from mkv
  // with Python's hmac and hashlib, following sigv4-streaming-trailers.html.
  const auto trailer =
      mkv::trailer_string_to_sign(ok->amz_date, ok->credential.scope(), previous,
                                  mkv::sha256_hex("x-amz-checksum-crc32c:sOO8/Q==\n"));
  CHECK(mkv::sign(ok->key, trailer) ==
        "838d1eeafd0ec086f3e98ef47cfb73e3cf6fea3c489e22a61089fa643e8b4b61");
}

TEST_CASE("parse_authorization says what is malformed") {
  const struct {
    const char* value;
    s3errc code;
    const char* says;
  } rows[] = {
      {"AWS4-HMAC-SHA256", s3errc::authorization_header_malformed, "does not start"},
      {"Bearer x", s3errc::authorization_header_malformed, "does not start"},
      {"AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host",
       s3errc::authorization_header_malformed, "needs Credential"},
      {"AWS4-HMAC-SHA256 Credential=A/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, "
       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
       s3errc::authorization_header_malformed, "YYYYMMDD"},
      {"AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/sqs/aws4_request, SignedHeaders=host, "
       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
       s3errc::authorization_header_malformed, "service s3"},
      {"AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=range, "
       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
       s3errc::authorization_header_malformed, "does not include host"},
      {"AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, "
       "SignedHeaders=x-amz-date;host, "
       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
       s3errc::authorization_header_malformed, "not sorted"},
      {"AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=Host, "
       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
       s3errc::authorization_header_malformed, "lower-case"},
      {"AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, "
       "Signature=F0E8",
       s3errc::authorization_header_malformed, "64 lower-case hex"},
      {"AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, "
       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41, Extra=1",
       s3errc::authorization_header_malformed, "unexpected part"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.value);
    const auto parsed = mkv::parse_authorization(r.value);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == r.code);
    CHECK(parsed.error().message.find(r.says) != std::string::npos);
  }
}

TEST_CASE("canonical URI: decoded once, encoded again keeping unreserved characters and '/'") {
  const struct {
    const char* raw;
    const char* canonical;
  } rows[] = {
      {"/", "/"},
      {"/bucket/a b", "/bucket/a%20b"},
      {"/bucket/a%20b", "/bucket/a%20b"},
      {"/bucket/a+b", "/bucket/a%2Bb"},
      {"/bucket/%7e~", "/bucket/~~"},
      {"/bucket/a/./b//c", "/bucket/a/./b//c"},  // S3 does not normalise
      {"/bucket/%c3%bc", "/bucket/%C3%BC"},
      {"/bucket/a%2Fb", "/bucket/a/b"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.raw);
    CHECK(mkv::canonical_uri(r.raw).value() == r.canonical);
  }
  CHECK(mkv::canonical_uri("/bucket/%zz").error().code == s3errc::invalid_request);
}

TEST_CASE("canonical query: encoded, sorted by name then value, valueless as name=") {
  const struct {
    const char* raw;
    const char* canonical;
  } rows[] = {
      {"", ""},
      {"uploads", "uploads="},
      {"uploads=", "uploads="},
      {"b=2&a=1", "a=1&b=2"},
      {"a=2&a=1", "a=1&a=2"},
      {"prefix=a b", "prefix=a%20b"},
      {"prefix=a%2fb&delimiter=/", "delimiter=%2F&prefix=a%2Fb"},
      {"k=%7E-_.", "k=~-_."},
      {"&&a=1&", "a=1"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.raw);
    const auto params = mkv::parse_query(r.raw).value();
    CHECK(mkv::canonical_query(params) == r.canonical);
  }
  const auto params = mkv::parse_query("X-Amz-Signature=abc&a=1").value();
  CHECK(mkv::canonical_query(params, "X-Amz-Signature") == "a=1");
  CHECK(mkv::parse_query("a=%g0").error().code == s3errc::invalid_request);
}

TEST_CASE("canonical headers: lower-case names, values trimmed, spaces collapsed, repeats joined") {
  const std::vector<Header> headers = {{"Host", "h:1"},
                                       {"X-Amz-Meta-A", "  one   two  "},
                                       {"x-amz-meta-b", "x"},
                                       {"X-AMZ-META-B", "y"}};
  const std::vector<std::string> names = {"host", "x-amz-meta-a", "x-amz-meta-b"};
  CHECK(mkv::canonical_headers(headers, names).value() ==
        "host:h:1\nx-amz-meta-a:one two\nx-amz-meta-b:x,y\n");
}

TEST_CASE("parse_amz_date reads YYYYMMDDTHHMMSSZ as Unix time and refuses the rest") {
  CHECK(mkv::parse_amz_date("19700101T000000Z").value() == 0);
  CHECK(mkv::parse_amz_date("20130524T000000Z").value() == 1369353600);
  CHECK(mkv::parse_amz_date("20261201T030000Z").value() == 1796094000);
  CHECK(mkv::parse_amz_date("20240229T235959Z").value() == 1709251199);
  for (const char* bad : {"", "20130524", "20130524T000000", "20130524 000000Z", "20131324T000000Z",
                          "20130230T000000Z", "20130524T240000Z", "20130524T006000Z",
                          "2013052xT000000Z", "Fri, 24 May 2013"}) {
    CAPTURE(bad);
    CHECK(mkv::parse_amz_date(bad).error().code == s3errc::access_denied);
  }
}

TEST_CASE("payload_mode names each x-amz-content-sha256 form") {
  const struct {
    const char* value;
    mkv::PayloadMode mode;
  } rows[] = {
      {"UNSIGNED-PAYLOAD", mkv::PayloadMode::unsigned_payload},
      {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", mkv::PayloadMode::streaming_signed},
      {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", mkv::PayloadMode::streaming_signed_trailer},
      {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", mkv::PayloadMode::streaming_unsigned_trailer},
      {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       mkv::PayloadMode::sha256},
  };
  for (const auto& r : rows) {
    CAPTURE(r.value);
    CHECK(mkv::payload_mode(r.value).value() == r.mode);
  }
  for (const char* bad :
       {"", "unsigned-payload", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "STREAMING-UNSIGNED-PAYLOAD"}) {
    CAPTURE(bad);
    CHECK(mkv::payload_mode(bad).error().code == s3errc::invalid_argument);
  }
}

TEST_CASE("signatures_equal compares whole strings") {
  CHECK(mkv::signatures_equal("abc", "abc"));
  CHECK_FALSE(mkv::signatures_equal("abc", "abd"));
  CHECK_FALSE(mkv::signatures_equal("abc", "ab"));
  CHECK(mkv::signatures_equal("", ""));
}

TEST_CASE("every S3 error has a name, a status and a message") {
  for (int i = 0; i <= static_cast<int>(s3errc::x_amz_content_sha256_mismatch); ++i) {
    const auto code = static_cast<s3errc>(i);
    CAPTURE(i);
    CHECK_FALSE(mkv::s3_code_name(code).empty());
    CHECK(mkv::http_status(code) >= 400);
    CHECK_FALSE(mkv::s3_error(code).message.empty());
  }
  CHECK(mkv::s3_code_name(s3errc::no_such_key) == "NoSuchKey");
  CHECK(mkv::http_status(s3errc::no_such_key) == 404);
  CHECK(mkv::s3_error(s3errc::invalid_argument, "why").message == "why");
}
