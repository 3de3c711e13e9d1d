// The signing-key cache of the S3 API: the keys it hands out are the derived ones, unknown access
// keys get none, and it stays bounded.
#include "s3/signing_keys.h"

#include <doctest/doctest.h>

#include <string>

TEST_CASE("SigningKeys derives each key once and hands out the derived key") {
  mkv::SigningKeys keys(
      mkv::S3Credentials{{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}});
  const mkv::Credential credential{"AKIDEXAMPLE", "20261201", "us-east-1", "s3"};
  const auto expected = mkv::derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                "20261201", "us-east-1", "s3");
  CHECK(keys.key_for(credential) == expected);
  CHECK(keys.key_for(credential) == expected);
  CHECK(keys.cached() == 1);
  // Another day or region is another key.
  const mkv::Credential next_day{"AKIDEXAMPLE", "20261202", "us-east-1", "s3"};
  CHECK(keys.key_for(next_day) != expected);
  CHECK(keys.cached() == 2);
  CHECK_FALSE(keys.key_for({"NOBODY", "20261201", "us-east-1", "s3"}).has_value());
  CHECK(keys.cached() == 2);
}

TEST_CASE("SigningKeys starts over when full") {
  mkv::SigningKeys keys(mkv::S3Credentials{{"AKIDEXAMPLE", "secretsecret"}});
  for (std::size_t i = 0; i < mkv::SigningKeys::max_cached; ++i) {
    REQUIRE(keys.key_for({"AKIDEXAMPLE", "20261201", "region-" + std::to_string(i), "s3"}));
  }
  CHECK(keys.cached() == mkv::SigningKeys::max_cached);
  REQUIRE(keys.key_for({"AKIDEXAMPLE", "20261201", "one-more", "s3"}));
  CHECK(keys.cached() == 1);
}
