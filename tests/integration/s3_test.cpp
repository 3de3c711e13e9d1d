// The S3 API with the real clients Debian ships (boto3 through tests/integration/s3/boto3_check.py,
// and the AWS CLI), against real nginx volumes and the real mkv binary started with --s3-port:
// what the clients write is read back by them and through the native API (one namespace), and
// the other way round; GetObject reads from volumes that serve only signed URLs; serve refuses an
// S3 port without usable credentials.
#include "s3_cluster.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace mkv::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;


TEST_CASE("boto3 uses the S3 API: objects, ranges, conditions, listings, presigned URLs") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  // A native key makes the bucket; S3 reads it, and the native API reads what S3 writes.
  REQUIRE(c.put("/photos/native.txt", "written natively").status == 201);
  const auto result = run_program("/usr/bin/python3",
                                  {std::string(MKV_S3_CLIENTS) + "/boto3_check.py", s3.endpoint(),
                                   access_key, secret_key, "photos"},
                                  180s);
  CAPTURE(result.out);
  CAPTURE(result.err);
  CAPTURE(c.server->log());
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "boto3: ok"));
  CHECK(c.fetch("/photos/s3/small.txt") == "hello through S3");
  CHECK(c.fetch("/photos/s3/dir%20with%20space/%C3%BCber+plus.txt") == "odd");
  CHECK(c.holders("photos/s3/big.bin").size() == 2);
  // CopyObject wrote a whole blob of its own, on the target key's placement.
  CHECK(c.holders("photos/copies/big.bin").size() == 2);
  CHECK(c.fetch("/photos/meta/dst.txt") == "copy me");
  CHECK(c.get("/photos/s3/empty").status == 404);
}

TEST_CASE("the AWS CLI copies, lists and removes through the S3 API") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/backup/seed", "seed").status == 201);
  const fs::path file = s3.config.path() / "upload.bin";
  std::string bytes(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 % 251);
  {
    std::ofstream out(file, std::ios::binary);
    out << bytes;
  }
  auto cp = s3.aws({"s3", "cp", file.string(), "s3://backup/day1/upload.bin"});
  CAPTURE(cp.out);
  CAPTURE(cp.err);
  REQUIRE(cp.exit_code == 0);
  CHECK(c.fetch("/backup/day1/upload.bin") == bytes);

  auto ls = s3.aws({"s3", "ls", "s3://backup/"});
  CAPTURE(ls.out);
  REQUIRE(ls.exit_code == 0);
  CHECK(contains(ls.out, "PRE day1/"));
  CHECK(contains(ls.out, "seed"));
  auto buckets = s3.aws({"s3", "ls"});
  CHECK(contains(buckets.out, "backup"));

  const fs::path back = s3.config.path() / "back.bin";
  REQUIRE(s3.aws({"s3", "cp", "s3://backup/day1/upload.bin", back.string()}).exit_code == 0);
  std::ifstream in(back, std::ios::binary);
  CHECK(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()) ==
        bytes);

  auto api = s3.aws({"s3api", "head-object", "--bucket", "backup", "--key", "seed"});
  CHECK(api.exit_code == 0);
  CHECK(contains(api.out, "\"ContentLength\": 4"));

  // S3 to S3: a CopyObject.
  auto copy = s3.aws({"s3", "cp", "s3://backup/day1/upload.bin", "s3://backup/day2/copy.bin"});
  CAPTURE(copy.err);
  REQUIRE(copy.exit_code == 0);
  CHECK(c.fetch("/backup/day2/copy.bin") == bytes);

  REQUIRE(s3.aws({"s3", "rm", "s3://backup/day1/upload.bin"}).exit_code == 0);
  CHECK(c.get("/backup/day1/upload.bin").status == 404);
  CHECK(c.holders("backup/day1/upload.bin").empty());
}

TEST_CASE("GetObject reads through volumes that serve only signed URLs") {
  S3Cluster s3("dGVzdC1zZWNyZXQtZm9yLW1rdi1zaWduZWQtbGlua3M=");
  Cluster& c = s3.cluster;
  const fs::path file = s3.config.path() / "signed.txt";
  {
    std::ofstream out(file);
    out << "bytes behind signed volumes";
  }
  auto up = s3.aws({"s3", "cp", file.string(), "s3://private/signed.txt"});
  CAPTURE(up.err);
  REQUIRE(up.exit_code == 0);
  const auto holders = c.holders("private/signed.txt");
  REQUIRE(holders.size() == 2);
  // The volume refuses the bare URL; GetObject, signed by mkv, reads it.
  CHECK(request_url(c.volumes[holders[0]]->url() + "/private/signed.txt").status == 403);
  const fs::path back = s3.config.path() / "back.txt";
  auto down = s3.aws({"s3", "cp", "s3://private/signed.txt", back.string()});
  CAPTURE(down.err);
  REQUIRE(down.exit_code == 0);
  std::ifstream in(back);
  CHECK(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()) ==
        "bytes behind signed volumes");
}

TEST_CASE("serve refuses an S3 port without usable credentials") {
  TempDir dir;
  Volume volume;
  const auto serve = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {
        "-d", (dir.path() / "index.db").string(), "-v", volume.url(), "-r", "1", "serve",
        "-p", std::to_string(free_port())};
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args, 10s);
  };
  auto refused = serve({"--s3-port", std::to_string(free_port())});
  CHECK(refused.exit_code != 0);
  CHECK(contains(refused.err, "--s3-port needs --s3-credentials"));

  const fs::path bad = dir.path() / "bad";
  write_private(bad, "AKIDEXAMPLE\n");
  refused = serve({"--s3-port", std::to_string(free_port()), "--s3-credentials", bad.string()});
  CHECK(refused.exit_code != 0);
  CHECK(contains(refused.err, "credentials line 1: expected ACCESS_KEY_ID SECRET_ACCESS_KEY"));

  refused = serve({"--s3-port", std::to_string(free_port()), "--s3-credentials",
                   (dir.path() / "missing").string()});
  CHECK(refused.exit_code != 0);
  CHECK(contains(refused.err, "missing"));
}
