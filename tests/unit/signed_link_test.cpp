// Signed volume URLs: golden vectors computed apart from mkv (Python's hashlib and base64, and
// `openssl md5 -binary | openssl base64` for the first), so that mkv and nginx's secure_link_md5
// agree on the contract in mkv/signed_link.h.
#include "mkv/signed_link.h"

#include <doctest/doctest.h>

#include <string>

using mkv::LinkScope;

namespace {
constexpr const char* secret = "c2VjcmV0LWZvci10ZXN0cw==";
}

TEST_CASE("link_signature matches the golden vectors") {
  const struct {
    std::int64_t expires;
    LinkScope scope;
    const char* uri;  // decoded, as nginx's $uri
    const char* md5;
  } rows[] = {
      {1764500000, LinkScope::read, "/a/b", "6eYkGz39SbnLVLrxKgqwqQ"},
      {1764500000, LinkScope::write, "/a/b", "Gdkk69Bh3Yu0_84FV1Mm-g"},
      {2000000000, LinkScope::read, "/utf8/\xC3\xBC" "ber space", "x3UUciVpCjf0Q1dHoxNypA"},
      {0, LinkScope::read, "/", "CdAT5ErQj-xtaFLu7bv4kw"},
      {1764500000, LinkScope::read, "/prefix/.mkv/staging/0123abcd", "_9WdW8_pw5t5MIEhGm2G4Q"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.uri);
    CHECK(mkv::link_signature(r.expires, r.scope, r.uri, secret) == r.md5);
  }
  CHECK(mkv::link_signature(1764500000, LinkScope::read, "/a/b", "another-secret-0123") ==
        "VXo4ruVmQpF-6fMN52fuCA");
}

TEST_CASE("a GET or HEAD is signed for reading, every other method for writing") {
  const struct {
    const char* method;
    LinkScope scope;
  } rows[] = {{"GET", LinkScope::read},    {"HEAD", LinkScope::read},
              {"PUT", LinkScope::write},   {"DELETE", LinkScope::write},
              {"MOVE", LinkScope::write},  {"get", LinkScope::write}};
  for (const auto& r : rows) {
    CAPTURE(r.method);
    CHECK(mkv::scope_of(r.method) == r.scope);
  }
}

TEST_CASE("sign_target signs the decoded path and appends md5 and expires to the query") {
  const struct {
    const char* method;
    const char* target;
    const char* signed_target;
  } rows[] = {
      {"GET", "/a/b", "/a/b?md5=6eYkGz39SbnLVLrxKgqwqQ&expires=1764500000"},
      {"HEAD", "/a/b", "/a/b?md5=6eYkGz39SbnLVLrxKgqwqQ&expires=1764500000"},
      {"DELETE", "/a/b", "/a/b?md5=Gdkk69Bh3Yu0_84FV1Mm-g&expires=1764500000"},
      // The signature covers the path nginx decodes, not the encoded bytes.
      {"GET", "/utf8/%C3%BCber%20space",
       "/utf8/%C3%BCber%20space?md5=A7jl2xYL_vFKJwuV5SIlcg&expires=1764500000"},
      {"GET", "/", "/?md5=RBlieTFfD3R6RFhMhMG4Rw&expires=1764500000"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.target);
    const auto signed_target = mkv::sign_target(r.target, r.method, 1764500000, secret);
    REQUIRE(signed_target.has_value());
    CHECK(*signed_target == r.signed_target);
  }
  // A redirect's Location: the volume's own path prefix is part of the signed path.
  CHECK(mkv::sign_target("http://vol1:8080/a/b", "GET", 1764500000, secret).value() ==
        "http://vol1:8080/a/b?md5=6eYkGz39SbnLVLrxKgqwqQ&expires=1764500000");
  CHECK(mkv::sign_target("http://vol1:8080/prefix/.mkv/staging/0123abcd", "GET", 1764500000,
                         secret)
            .value() ==
        "http://vol1:8080/prefix/.mkv/staging/0123abcd?md5=_9WdW8_pw5t5MIEhGm2G4Q&"
        "expires=1764500000");
  CHECK_FALSE(mkv::sign_target("relative/path", "GET", 1, secret).has_value());
  CHECK_FALSE(mkv::sign_target("/bad%zz", "GET", 1, secret).has_value());
}

TEST_CASE("a secret must be base64-like text of 16 to 256 characters") {
  const struct {
    std::string secret;
    bool ok;
  } rows[] = {
      {secret, true},
      {"0123456789abcdef", true},
      {"AZaz09+/=_-AZaz09", true},
      {"0123456789abcde", false},  // too short
      {std::string(257, 'a'), false},
      {"0123456789abcdef\n", false},
      {"with a space 0123", false},
      {"dollar$variable0123", false},
      {"quote\"0123456789ab", false},
      {"semicolon;0123456789", false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.secret);
    CHECK(mkv::acceptable_link_secret(r.secret) == r.ok);
  }
}
