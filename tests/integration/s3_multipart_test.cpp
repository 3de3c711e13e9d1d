// S3 multipart uploads with the real clients Debian ships, against real nginx volumes and the
// real mkv binary: the AWS CLI, boto3's transfer manager, rclone and s3cmd upload big files in
// parts on their own; every multipart call by hand and its errors (boto3, through
// tests/integration/s3/multipart_check.py); what a completed upload leaves (one object, read
// through S3 and through the native 302, and no parts in the index or on the volumes); aborted
// and expired uploads; an upload that outlives a restart (and a kill -9) of serve, and one whose
// Complete failed (volumes down, the <Error> sent in the early 200) and completes once they are
// back; gc in the middle of an upload; a key with odd characters; two Completes at once.
#include "s3_cluster.h"

#include "mkv/checksum.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace mkv::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t MiB = 1024 * 1024;

// Returns n pseudo-random bytes (the same for the same seed).
std::string random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t word = generator();
    for (std::size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<char>(word >> 8 * j);
  }
  return out;
}

// Returns the ETag S3 gives an object uploaded in parts of part_size bytes (the last shorter),
// without its quotes: the hex MD5 of the parts' binary MD5s, '-', the number of parts.
std::string multipart_etag(const std::string& bytes, std::size_t part_size) {
  mkv::Md5Stream md5s;
  std::size_t count = 0;
  for (std::size_t at = 0; at < bytes.size(); at += part_size, ++count) {
    const mkv::Md5 part = mkv::md5_of(std::string_view(bytes).substr(at, part_size));
    md5s.update({reinterpret_cast<const char*>(part.data()), part.size()});
  }
  return mkv::to_hex(md5s.finish()) + "-" + std::to_string(count);
}

// Returns how the AWS CLI's JSON shows an ETag: "ETag": "\"<etag>\"".
std::string cli_etag(const std::string& etag) {
  return "\"ETag\": \"\\\"" + etag + "\\\"\"";
}

// Runs multipart_check.py in mode (see the script) against the cluster's bucket "b".
RunResult check_script(const S3Cluster& s3, const std::string& mode,
                       const std::vector<std::string>& args) {
  std::vector<std::string> all = {std::string(MKV_S3_CLIENTS) + "/multipart_check.py",
                                  s3.endpoint(),
                                  access_key,
                                  secret_key,
                                  "b",
                                  std::to_string(s3.cluster.port()),
                                  mode};
  all.insert(all.end(), args.begin(), args.end());
  return run_program("/usr/bin/python3", all, 120s);
}

// Returns the rest of the last line of out that starts with "name ", or "".
std::string printed(const std::string& out, const std::string& name) {
  std::istringstream lines(out);
  std::string line, found;
  while (std::getline(lines, line)) {
    if (line.starts_with(name + " ")) found = line.substr(name.size() + 1);
  }
  return found;
}

// Returns the files on the cluster's volumes that are not one of keys (as "b/..." keys);
// waits up to 5 s for deletions still in flight to end.
std::vector<std::string> files_besides(const Cluster& c, const std::vector<std::string>& keys) {
  std::vector<std::string> extra;
  for (int attempt = 0; attempt < 50; ++attempt) {
    extra.clear();
    for (const auto& file : c.all_files()) {
      bool known = false;
      for (const auto& key : keys) known = known || file.ends_with("/" + key);
      if (!known) extra.push_back(file);
    }
    if (extra.empty()) break;
    std::this_thread::sleep_for(100ms);
  }
  return extra;
}

}  // namespace

TEST_CASE("the AWS CLI uploads a 20 MiB file in parts; it reads back through S3 and the 302") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);  // the bucket (too short a name to create)
  const std::string bytes = random_bytes(20 * MiB, 1);
  const fs::path file = s3.config.path() / "big.bin";
  write_file(file, bytes);

  auto up = s3.aws({"s3", "cp", "--no-progress", file.string(), "s3://b/cli/big.bin"});
  CAPTURE(up.out);
  CAPTURE(up.err);
  CAPTURE(c.server->log());
  REQUIRE(up.exit_code == 0);

  // 8 MiB parts (the CLI's default): 8 + 8 + 4 MiB.
  auto head = s3.aws({"s3api", "head-object", "--bucket", "b", "--key", "cli/big.bin"});
  CAPTURE(head.out);
  REQUIRE(head.exit_code == 0);
  CHECK(contains(head.out, cli_etag(multipart_etag(bytes, 8 * MiB))));
  CHECK(contains(head.out, "\"ContentLength\": 20971520"));
  // The native API answers the same ETag; a listing shows it.
  CHECK(c.head("/b/cli/big.bin").header("etag") == "\"" + multipart_etag(bytes, 8 * MiB) + "\"");
  auto listed = s3.aws({"s3api", "list-objects-v2", "--bucket", "b", "--prefix", "cli/"});
  CAPTURE(listed.out);
  CHECK(contains(listed.out, cli_etag(multipart_etag(bytes, 8 * MiB))));

  const fs::path back = s3.config.path() / "back.bin";
  auto down = s3.aws({"s3", "cp", "--no-progress", "s3://b/cli/big.bin", back.string()});
  CAPTURE(down.err);
  REQUIRE(down.exit_code == 0);
  CHECK(read_file(back) == bytes);

  // One object, one blob: the native 302 leads to a volume that has the whole file.
  CHECK(c.fetch("/b/cli/big.bin") == bytes);
  CHECK(c.holders("b/cli/big.bin").size() == 2);
  CHECK(files_besides(c, {"b/seed", "b/cli/big.bin"}).empty());

  // verify checks the blob against its record's MD5 (of all its bytes) and leaves the ETag.
  const auto verify = run({"-d", c.db().string(), "-v", join_urls(c.urls()), "-r", "2", "verify"});
  CAPTURE(verify.out);
  CAPTURE(verify.err);
  CHECK(verify.exit_code == 0);
  CHECK(contains(verify.err, "good copies: 4\n"));
  CHECK(contains(verify.err, "0 bad, 0 repaired"));
  CHECK(c.head("/b/cli/big.bin").header("etag") == "\"" + multipart_etag(bytes, 8 * MiB) + "\"");
}

TEST_CASE("boto3's upload_file and download_file go in parts and keep the type and metadata") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);  // the bucket (too short a name to create)
  const auto result = check_script(s3, "transfer", {"boto3/big.bin"});
  CAPTURE(result.out);
  CAPTURE(result.err);
  CAPTURE(c.server->log());
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "transfer: ok"));
  const std::string md5 = printed(result.out, "object-md5");
  REQUIRE(md5.size() == 32);
  CHECK(mkv::to_hex(mkv::md5_of(c.fetch("/b/boto3/big.bin"))) == md5);
}

TEST_CASE("multipart calls by hand: parts, listings, Complete's refusals, what Complete leaves") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);  // the bucket (too short a name to create)
  const auto result = check_script(s3, "api", {"api/object.bin"});
  CAPTURE(result.out);
  CAPTURE(result.err);
  CAPTURE(c.server->log());
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "api: ok"));
  const std::string md5 = printed(result.out, "object-md5");
  REQUIRE(md5.size() == 32);
  // The completed object was copied, then overwritten by one PutObject.
  CHECK(mkv::to_hex(mkv::md5_of(c.fetch("/b/api/object.bin-copy"))) == md5);
  CHECK(c.fetch("/b/api/object.bin") == "one PutObject");
  CHECK(c.head("/b/api/object.bin").header("etag") == mkv::etag_of(mkv::md5_of("one PutObject")));
  // The parts' blobs are gone from the volumes too.
  CHECK(files_besides(c, {"b/seed", "b/api/object.bin", "b/api/object.bin-copy"}).empty());
}

TEST_CASE("an aborted upload is gone; upload IDs that name no upload are NoSuchUpload") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);  // the bucket (too short a name to create)
  const auto result = check_script(s3, "abort", {"abort/object.bin"});
  CAPTURE(result.out);
  CAPTURE(result.err);
  CAPTURE(c.server->log());
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "abort: ok"));
  CHECK(c.get("/b/abort/object.bin").status == 404);
  CHECK(files_besides(c, {"b/seed"}).empty());
}

TEST_CASE("an upload nobody completes expires (--s3-upload-expiry)") {
  // 4 s: expiry counts whole seconds, so an upload may go a second early, and the script needs
  // the upload for a moment before it waits (2 s would race a loaded machine).
  S3Cluster s3({}, {"--s3-upload-expiry", "4"});
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);  // the bucket (too short a name to create)
  const auto result = check_script(s3, "expiry", {"expiry/object.bin"});
  CAPTURE(result.out);
  CAPTURE(result.err);
  CAPTURE(c.server->log());
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "expiry: ok"));
  CHECK(files_besides(c, {"b/seed"}).empty());
}

TEST_CASE("an upload outlives a restart of serve and completes after it") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);  // the bucket (too short a name to create)
  const auto begun = check_script(s3, "begin", {"restart/object.bin"});
  CAPTURE(begun.out);
  CAPTURE(begun.err);
  CAPTURE(c.server->log());
  REQUIRE(begun.exit_code == 0);
  const std::string upload_id = printed(begun.out, "upload");
  REQUIRE(upload_id.size() == 32);

  REQUIRE(c.server->stop() == 0);
  c.server->start();
  for (int i = 0; i < 100 && !accepts_connections(s3.s3_port); ++i)
    std::this_thread::sleep_for(100ms);
  REQUIRE(accepts_connections(s3.s3_port));

  const auto finished = check_script(s3, "finish", {"restart/object.bin", upload_id});
  CAPTURE(finished.out);
  CAPTURE(finished.err);
  REQUIRE(finished.exit_code == 0);
  CHECK(contains(finished.out, "finish: ok"));
  const std::string md5 = printed(finished.out, "object-md5");
  REQUIRE(md5.size() == 32);
  CHECK(mkv::to_hex(mkv::md5_of(c.fetch("/b/restart/object.bin"))) == md5);
  CHECK(files_besides(c, {"b/seed", "b/restart/object.bin"}).empty());
}

TEST_CASE("an upload outlives a kill -9 of serve") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);
  const auto begun = check_script(s3, "begin", {"crash/object.bin"});
  CAPTURE(begun.out);
  CAPTURE(begun.err);
  CAPTURE(c.server->log());
  REQUIRE(begun.exit_code == 0);
  const std::string upload_id = printed(begun.out, "upload");
  REQUIRE(upload_id.size() == 32);
  c.server->kill9();
  c.server->start();
  for (int i = 0; i < 100 && !accepts_connections(s3.s3_port); ++i) {
    std::this_thread::sleep_for(100ms);
  }
  const auto finished = check_script(s3, "finish", {"crash/object.bin", upload_id});
  CAPTURE(finished.out);
  CAPTURE(finished.err);
  REQUIRE(finished.exit_code == 0);
  CHECK(files_besides(c, {"b/seed", "b/crash/object.bin"}).empty());
}

TEST_CASE("gc (grace 0) in the middle of an upload keeps its parts") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);
  const auto begun = check_script(s3, "begin", {"gc/object.bin"});
  CAPTURE(begun.out);
  CAPTURE(begun.err);
  REQUIRE(begun.exit_code == 0);
  const std::string upload_id = printed(begun.out, "upload");
  REQUIRE(upload_id.size() == 32);
  const auto gc =
      run({"-d", c.db().string(), "-v", join_urls(c.urls()), "-r", "2", "gc", "--grace", "0"});
  CAPTURE(gc.out);
  CAPTURE(gc.err);
  CAPTURE(c.server->log());
  REQUIRE(gc.exit_code == 0);
  CHECK(c.holders(".mkv/parts/b/" + upload_id + "/00001").size() == 2);
  const auto finished = check_script(s3, "finish", {"gc/object.bin", upload_id});
  CAPTURE(finished.out);
  CAPTURE(finished.err);
  REQUIRE(finished.exit_code == 0);
  CHECK(files_besides(c, {"b/seed", "b/gc/object.bin"}).empty());
}

TEST_CASE("a key with a space, UTF-8 and a plus uploads in parts and lists back exactly") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);
  const auto result = check_script(s3, "odd",
                                   {"dir with space/\xC3\xBC"
                                    "ber+plus.bin"});
  CAPTURE(result.out);
  CAPTURE(result.err);
  CAPTURE(c.server->log());
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "odd: ok"));
  CHECK(c.get("/b/dir%20with%20space/%C3%BCber+plus.bin").status == 302);
}

TEST_CASE("two Completes of one upload at once: one object, whole, and nothing left") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);
  const auto result = check_script(s3, "racing", {"race/object.bin"});
  CAPTURE(result.out);
  CAPTURE(result.err);
  CAPTURE(c.server->log());
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "racing: ok"));
  CHECK(files_besides(c, {"b/seed", "b/race/object.bin"}).empty());
}

TEST_CASE("a Complete that fails (its part's volumes down) keeps the upload; it completes later") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);
  const auto begun = check_script(s3, "begin", {"down/object.bin"});
  CAPTURE(begun.out);
  CAPTURE(begun.err);
  REQUIRE(begun.exit_code == 0);
  const std::string upload_id = printed(begun.out, "upload");
  REQUIRE(upload_id.size() == 32);

  // The volumes that hold part 1 down: Complete cannot read it.
  const auto holders = c.holders(".mkv/parts/b/" + upload_id + "/00001");
  REQUIRE(holders.size() == 2);
  for (const std::size_t v : holders) c.volumes[v]->stop();
  const auto failed = check_script(s3, "unfinishable", {"down/object.bin", upload_id});
  CAPTURE(failed.out);
  CAPTURE(failed.err);
  CAPTURE(c.server->log());
  CHECK(failed.exit_code == 0);
  for (const std::size_t v : holders) c.volumes[v]->start();
  std::string health;
  for (int i = 0; i < 150; ++i) {
    health = c.get("/.mkv/health").body;
    if (!contains(health, "down") && !contains(health, "unwritable")) break;
    std::this_thread::sleep_for(100ms);
  }
  CAPTURE(health);

  const auto finished = check_script(s3, "finish", {"down/object.bin", upload_id});
  CAPTURE(finished.out);
  CAPTURE(finished.err);
  REQUIRE(finished.exit_code == 0);
  const std::string md5 = printed(finished.out, "object-md5");
  REQUIRE(md5.size() == 32);
  CHECK(mkv::to_hex(mkv::md5_of(c.fetch("/b/down/object.bin"))) == md5);
  CHECK(files_besides(c, {"b/seed", "b/down/object.bin"}).empty());
}

TEST_CASE("rclone uploads in parts above its cutoff; check passes; the copy down is the same") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);  // the bucket (too short a name to create)
  const std::string bytes = random_bytes(12 * MiB, 2);
  const fs::path source = s3.config.path() / "source";
  write_file(source / "big.bin", bytes);

  // Parts above a cutoff of 5 MiB (rclone's default is 200 MiB): 5 + 5 + 2 MiB.
  auto copy = s3.rclone({"copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
                         source.string(), "mkv:b/rclone"});
  CAPTURE(copy.err);
  CAPTURE(c.server->log());
  REQUIRE(copy.exit_code == 0);
  auto head = s3.aws({"s3api", "head-object", "--bucket", "b", "--key", "rclone/big.bin"});
  CAPTURE(head.out);
  REQUIRE(head.exit_code == 0);
  CHECK(contains(head.out, cli_etag(multipart_etag(bytes, 5 * MiB))));

  auto check = s3.rclone({"check", source.string(), "mkv:b/rclone"});
  CAPTURE(check.err);
  CHECK(check.exit_code == 0);
  CHECK(contains(check.err, "0 differences found"));

  const fs::path back = s3.config.path() / "back";
  auto down = s3.rclone({"copy", "mkv:b/rclone", back.string()});
  CAPTURE(down.err);
  REQUIRE(down.exit_code == 0);
  CHECK(read_file(back / "big.bin") == bytes);
  CHECK(c.fetch("/b/rclone/big.bin") == bytes);
}

TEST_CASE("s3cmd puts a 20 MiB file in 5 MiB parts and gets it back") {
  S3Cluster s3;
  Cluster& c = s3.cluster;
  REQUIRE(c.put("/b/seed", "seed").status == 201);  // the bucket (too short a name to create)
  const std::string bytes = random_bytes(20 * MiB, 3);
  const fs::path file = s3.config.path() / "big.bin";
  write_file(file, bytes);
  const auto s3cmd = [&](std::vector<std::string> args) { return s3.s3cmd(std::move(args)); };

  auto put = s3cmd({"put", "--multipart-chunk-size-mb=5", file.string(), "s3://b/s3cmd/big.bin"});
  CAPTURE(put.out);
  CAPTURE(put.err);
  CAPTURE(c.server->log());
  REQUIRE(put.exit_code == 0);
  auto head = s3.aws({"s3api", "head-object", "--bucket", "b", "--key", "s3cmd/big.bin"});
  CAPTURE(head.out);
  REQUIRE(head.exit_code == 0);
  CHECK(contains(head.out, cli_etag(multipart_etag(bytes, 5 * MiB))));

  const fs::path back = s3.config.path() / "back.bin";
  auto get = s3cmd({"get", "s3://b/s3cmd/big.bin", back.string()});
  CAPTURE(get.err);
  REQUIRE(get.exit_code == 0);
  CHECK(read_file(back) == bytes);
  CHECK(c.fetch("/b/s3cmd/big.bin") == bytes);
}
