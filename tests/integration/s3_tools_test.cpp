// The S3 API with the sync tools Debian ships, rclone and s3cmd, configured as the README says,
// against real nginx volumes and the real mkv binary: what they write is read back by them and
// through the native API; a second sync transfers nothing (sizes, modification times kept in
// x-amz-meta-*, and MD5 ETags all agree); check, listing and deletion.
#include "s3_cluster.h"

#include "mkv/sigv4_canonical.h"

#include <filesystem>
#include <string>
#include <vector>

using namespace mkv::test;
namespace fs = std::filesystem;

namespace {

// The files of the tree the tools copy: relative path and bytes.
std::vector<std::pair<std::string, std::string>> tree_files() {
  std::string big(3 * 1024 * 1024 + 5, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 13 % 251);
  return {{"a.txt", "alpha"},
          {"empty", ""},
          {"dir/b.bin", big},
          {"dir/sub/c.txt", "gamma"},
          {"with space/\xC3\xBC"
           "ber.txt",
           "utf-8"}};
}

}  // namespace

TEST_CASE("rclone copies, syncs (twice), checks, lists and deletes through the S3 API") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  const fs::path source = s3.config.path() / "source";
  for (const auto& [path, bytes] : tree_files()) write_file(source / path, bytes);

  auto mkdir = s3.rclone({"mkdir", "mkv:tools"});
  CAPTURE(mkdir.err);
  REQUIRE(mkdir.exit_code == 0);
  auto copy = s3.rclone({"copy", source.string(), "mkv:tools/copy"});
  CAPTURE(copy.err);
  CAPTURE(c.server->log());
  REQUIRE(copy.exit_code == 0);
  for (const auto& [path, bytes] : tree_files()) {
    CAPTURE(path);
    CHECK(s3.cluster.fetch("/tools/copy/" + mkv::detail::aws_encode(path, true)) == bytes);
  }

  auto first = s3.rclone({"sync", "-v", source.string(), "mkv:tools/sync"});
  CAPTURE(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(contains(first.err, "Copied (new)"));
  // The second sync finds every file the same (size, modification time, MD5): it copies none.
  auto second = s3.rclone({"sync", "-v", source.string(), "mkv:tools/sync"});
  CAPTURE(second.err);
  REQUIRE(second.exit_code == 0);
  CHECK_FALSE(contains(second.err, "Copied"));

  auto check = s3.rclone({"check", source.string(), "mkv:tools/sync"});
  CAPTURE(check.err);
  CHECK(check.exit_code == 0);
  CHECK(contains(check.err, "0 differences found"));

  auto lsf = s3.rclone({"lsf", "-R", "mkv:tools/sync"});
  CAPTURE(lsf.out);
  REQUIRE(lsf.exit_code == 0);
  CHECK(contains(lsf.out, "a.txt\n"));
  CHECK(contains(lsf.out, "dir/sub/c.txt\n"));
  CHECK(contains(lsf.out,
                 "with space/\xC3\xBC"
                 "ber.txt\n"));

  // A file changed at the source is copied again, and a file removed there is deleted.
  write_file(source / "a.txt", "alpha, changed");
  fs::remove(source / "dir/sub/c.txt");
  auto third = s3.rclone({"sync", "-v", source.string(), "mkv:tools/sync"});
  CAPTURE(third.err);
  REQUIRE(third.exit_code == 0);
  CHECK(c.fetch("/tools/sync/a.txt") == "alpha, changed");
  CHECK(c.get("/tools/sync/dir/sub/c.txt").status == 404);

  auto removed = s3.rclone({"delete", "mkv:tools/copy"});
  CAPTURE(removed.err);
  REQUIRE(removed.exit_code == 0);
  CHECK(c.get("/tools/copy/a.txt").status == 404);
  CHECK(c.holders("tools/copy/dir/b.bin").empty());
}

TEST_CASE("s3cmd puts, gets, lists and deletes through the S3 API") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  const auto files = tree_files();
  const fs::path local = s3.config.path() / "local";
  for (const auto& [path, bytes] : files) write_file(local / path, bytes);

  auto mb = s3.s3cmd({"mb", "s3://archive"});
  CAPTURE(mb.out);
  CAPTURE(mb.err);
  REQUIRE(mb.exit_code == 0);
  auto put = s3.s3cmd({"put", (local / "dir/b.bin").string(), "s3://archive/blobs/b.bin"});
  CAPTURE(put.err);
  CAPTURE(c.server->log());
  REQUIRE(put.exit_code == 0);
  CHECK(c.fetch("/archive/blobs/b.bin") == files[2].second);
  REQUIRE(s3.s3cmd({"put", (local / "a.txt").string(), "s3://archive/blobs/a.txt"}).exit_code == 0);

  auto ls = s3.s3cmd({"ls", "s3://archive/blobs/"});
  CAPTURE(ls.out);
  REQUIRE(ls.exit_code == 0);
  CHECK(contains(ls.out, "s3://archive/blobs/a.txt"));
  CHECK(contains(ls.out, "s3://archive/blobs/b.bin"));
  auto buckets = s3.s3cmd({"ls"});
  CHECK(contains(buckets.out, "s3://archive"));

  const fs::path back = s3.config.path() / "back.bin";
  auto get = s3.s3cmd({"get", "s3://archive/blobs/b.bin", back.string()});
  CAPTURE(get.err);
  REQUIRE(get.exit_code == 0);
  CHECK(read_file(back) == files[2].second);

  auto del = s3.s3cmd({"del", "s3://archive/blobs/b.bin"});
  CAPTURE(del.err);
  REQUIRE(del.exit_code == 0);
  CHECK(c.get("/archive/blobs/b.bin").status == 404);
  REQUIRE(s3.s3cmd({"del", "s3://archive/blobs/a.txt"}).exit_code == 0);
  auto rb = s3.s3cmd({"rb", "s3://archive"});
  CAPTURE(rb.err);
  CHECK(rb.exit_code == 0);
  CHECK(s3.s3cmd({"ls", "s3://archive"}).exit_code != 0);
}
