// The S3 credentials file: what it accepts, and the line and reason of what it refuses.
#include "mkv/s3_credentials.h"

#include <doctest/doctest.h>

#include <string>

TEST_CASE("parse_s3_credentials reads one pair per line, skipping blanks and comments") {
  const auto parsed = mkv::parse_s3_credentials(
      "# mkv S3 users\n"
      "AKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
      "\n"
      "  backup-1\t\tsecret+with/slashes=  \r\n"
      "rclone.user 12345678");
  REQUIRE(parsed.has_value());
  CHECK(parsed->size() == 3);
  CHECK(parsed->at("AKIDEXAMPLE") == "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  CHECK(parsed->at("backup-1") == "secret+with/slashes=");
  CHECK(parsed->at("rclone.user") == "12345678");
}

TEST_CASE("parse_s3_credentials names the first bad line and why") {
  const struct {
    const char* text;
    const char* says;
  } rows[] = {
      {"", "holds no credentials"},
      {"# only a comment\n\n", "holds no credentials"},
      {"AKIDEXAMPLE\n", "line 1: expected ACCESS_KEY_ID SECRET_ACCESS_KEY"},
      {"okay secretsecret\nAKID secret extra\n", "line 2: expected"},
      {"ab secretsecret\n", "line 1: the access key ID must be"},
      {"a/b secretsecret\n", "line 1: the access key ID must be"},
      {"AKID short\n", "line 1: the secret must be"},
      {"AKID secr\x01tsecret\n", "line 1: the secret must be"},
      {"AKID secretsecret\n# x\nAKID othersecret\n",
       "line 3: the access key ID AKID is given twice"},
  };
  for (const auto& r : rows) {
    CAPTURE(std::string(r.text));
    const auto parsed = mkv::parse_s3_credentials(r.text);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == mkv::s3errc::invalid_argument);
    CAPTURE(parsed.error().message);
    CHECK(parsed.error().message.find(r.says) != std::string::npos);
  }
}
