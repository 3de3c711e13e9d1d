// PutObject with aws-chunked bodies (signed chunks, signed and unsigned trailers) and
// x-amz-checksum-* (header and trailer), built by hand in tests/integration/s3/chunked_check.py
// against real nginx volumes and the real mkv binary: what is accepted reads back byte-exact
// through the native API, and a body that fails a check (a chunk or trailer signature, a checksum,
// its decoded length) leaves no copy on any volume, nor changes the object it would overwrite.
#include "s3_cluster.h"

#include <algorithm>
#include <iterator>
#include <string>

using namespace mkv::test;
using namespace std::chrono_literals;

namespace {

// The bytes chunked_check.py writes: byte i is i * 7 % 251.
std::string pattern(std::size_t n) {
  std::string bytes(n, '\0');
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i * 7 % 251);
  return bytes;
}

}  // namespace

TEST_CASE("aws-chunked PutObjects and x-amz-checksum-*: stored when whole, nothing otherwise") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  const auto result = run_program("/usr/bin/python3",
                                  {std::string(MKV_S3_CLIENTS) + "/chunked_check.py", s3.endpoint(),
                                   access_key, secret_key, "chunked"},
                                  300s);
  CAPTURE(result.out);
  CAPTURE(result.err);
  CAPTURE(c.server->log());
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "chunked: ok"));

  const std::string data = pattern(3 * 64 * 1024 + 1000);
  const std::string big = pattern(3 * 1024 * 1024 + 17);  // several of mkv's 512 KiB pieces
  const struct {
    const char* key;
    std::string bytes;
  } stored[] = {
      {"chunked/signed.bin", data},
      {"chunked/big.bin", big},
      {"chunked/big-odd.bin", big},
      {"chunked/big-trailer.bin", big},
      {"chunked/odd.bin", pattern(100000)},
      {"chunked/one.bin", "x"},
      {"chunked/empty", ""},
      {"chunked/zipped", "not really gzip"},
      {"chunked/overwrite.bin", "the old value"},
      {"chunked/trailer-crc32.bin", data},
      {"chunked/trailer-crc32c.bin", data},
      {"chunked/trailer-sha256.bin", data},
      {"chunked/trailer-small.txt", "hello"},
      {"chunked/signed-trailer.bin", data},
      {"chunked/header-sum.bin", pattern(300000)},
      {"chunked/boto-sum.txt", "checked by boto"},
  };
  for (const auto& s : stored) {
    const std::string key = s.key;
    CAPTURE(key);
    CHECK(c.fetch("/" + key) == s.bytes);
    CHECK(c.holders(key).size() == 2);
  }
  const char* refused[] = {
      "chunked/tampered.bin",
      "chunked/tampered-first.bin",
      "chunked/tampered-last.bin",
      "chunked/no-length.bin",
      "chunked/short.bin",
      "chunked/long.bin",
      "chunked/bad-trailer.bin",
      "chunked/mismatch.bin",
      "chunked/bad-signed-trailer.bin",
      "chunked/bad-signed-sum.bin",
      "chunked/bad-header-sum.bin",
      "chunked/malformed-sum.bin",
      "chunked/boto-bad-sum.txt",
      "chunked/big-tampered-last.bin",
      "chunked/big-tampered-data.bin",
      "chunked/big-bad-trailer.bin",
      "chunked/big-bad-header-sum.bin",
  };
  for (const std::string key : refused) {
    CAPTURE(key);
    CHECK(c.get("/" + key).status == 404);
    CHECK(c.holders(key).empty());
  }
  // No refused body left a file anywhere (a partial upload, a staged overwrite): every file on
  // the volumes is a stored object's.
  for (const auto& file : c.all_files()) {
    CAPTURE(file);
    const bool known = std::any_of(std::begin(stored), std::end(stored), [&](const auto& s) {
      return file.ends_with(std::string("/") + s.key);
    });
    CHECK(known);
  }
}
