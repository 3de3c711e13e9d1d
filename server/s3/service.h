// What the S3 listener of a running `mkv serve` shares between its connections: its settings
// and the signing keys of its credentials.
#pragma once

#include "app.h"
#include "s3/signing_keys.h"

namespace mkv {

struct S3Service {
  explicit S3Service(const S3Settings& s3) : settings(s3), keys(s3.credentials) {}

  const S3Settings& settings;
  SigningKeys keys;
};

}  // namespace mkv
