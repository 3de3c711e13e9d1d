// The S3 API's own blobs through the operations on real nginx volumes with the real mkv binary:
// a bucket CreateBucket made (its marker "<bucket>/.mkv-bucket", which no volume listing shows)
// survives an index rebuilt from the volumes, over the old index or from nothing.
#include "s3_cluster.h"

#include "mkv/record.h"
#include "mkv/s3_names.h"
#include "mkv_config.h"

#include "test_index.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

using namespace mkv::test;
namespace fs = std::filesystem;

namespace {

// Runs `mkv rebuild` on the cluster's volumes and index.
RunResult rebuild(const Cluster& c) {
  return run({"-d", c.db().string(), "-v", join_urls(c.urls()), "-r", "2", "rebuild"});
}

}  // namespace

TEST_CASE("a bucket CreateBucket made survives a rebuild of the index from the volumes") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  const auto empty = s3.aws({"s3api", "create-bucket", "--bucket", "empty-bucket"});
  INFO(empty.err);
  REQUIRE(empty.exit_code == 0);
  const auto mb = s3.aws({"s3", "mb", "s3://full-bucket"});
  REQUIRE(mb.exit_code == 0);
  const fs::path object = s3.config.path() / "object";
  write_file(object, "an object");
  REQUIRE(s3.aws({"s3api", "put-object", "--bucket", "full-bucket", "--key", "dir/object", "--body",
                  object.string()})
              .exit_code == 0);
  // A bucket that is only the first segment of native keys has no marker.
  REQUIRE(c.put("/native/key", "native").status == 201);

  const std::string empty_marker = mkv::bucket_marker_key("empty-bucket");
  const std::string full_marker = mkv::bucket_marker_key("full-bucket");
  CHECK(c.holders(empty_marker).size() == 2);
  CHECK(c.holders(full_marker).size() == 2);
  REQUIRE(c.server->stop() == 0);
  const auto before = read_index(c.db());
  REQUIRE(before.count(empty_marker) == 1);
  REQUIRE(before.count(full_marker) == 1);
  REQUIRE(before.size() == 4);

  // Over the old index: every record comes back as it was, checksums and times included.
  const auto again = rebuild(c);
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(read_index(c.db()) == before);

  // From nothing: the markers are found by name on the volumes that hold them, with their size
  // and their file's time; no marker is made up for a bucket that never had one.
  remove_index(c.db());
  const auto rebuilt = rebuild(c);
  INFO(rebuilt.err);
  CHECK(rebuilt.exit_code == 0);
  CHECK(rebuilt.err.find("indexed 4 keys, 8 copies") != std::string::npos);
  CHECK(rebuilt.err.find("under-replicated (fewer than 2 copies): 0") != std::string::npos);
  const auto after = read_index(c.db());
  CHECK(after.size() == 4);
  CHECK(after.count(mkv::bucket_marker_key("native")) == 0);
  for (const auto& marker : {empty_marker, full_marker}) {
    CAPTURE(marker);
    REQUIRE(after.count(marker) == 1);
    const mkv::Record& record = after.at(marker);
    CHECK(record.volumes == before.at(marker).volumes);
    CHECK(record.size == 0);
    CHECK(!record.md5);
    CHECK(record.modified >= before.at(marker).modified - 1);
    CHECK(record.modified <= before.at(marker).modified + 1);
  }

  // Served again, the S3 API knows both buckets, the empty one included.
  c.server->start();
  const auto head = s3.aws({"s3api", "head-bucket", "--bucket", "empty-bucket"});
  INFO(head.err);
  CHECK(head.exit_code == 0);
  const auto buckets =
      s3.aws({"s3api", "list-buckets", "--query", "Buckets[].Name", "--output", "text"});
  INFO(buckets.err);
  CHECK(buckets.exit_code == 0);
  CHECK(contains(buckets.out, "empty-bucket"));
  CHECK(contains(buckets.out, "full-bucket"));
  const auto listed = s3.aws({"s3api", "list-objects-v2", "--bucket", "empty-bucket"});
  CHECK(listed.exit_code == 0);
  CHECK(!contains(listed.out, ".mkv-bucket"));
  const auto removed = s3.aws({"s3api", "delete-bucket", "--bucket", "empty-bucket"});
  INFO(removed.err);
  CHECK(removed.exit_code == 0);
  CHECK(c.holders(empty_marker).empty());
}
