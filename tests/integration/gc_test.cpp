// gc on real nginx volumes with the real mkv binary: it deletes the files no record names (a
// copy a failed DELETE left, files PUT straight onto a volume, a copy on a volume its record
// does not list, a name that is not a key, a stale staging file, a file in the record areas
// .mkv/uploads/ and .mkv/parts/) once older than the grace period, never an indexed copy nor
// anything else under .mkv/; its dry run lists each and deletes nothing; and after it a
// rebuild no longer brings a deleted key back.
#include "cluster.h"

#include "mkv/key.h"
#include "mkv/placement.h"
#include "mkv/record.h"
#include "mkv_config.h"

#include "test_index.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace mkv::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Returns the request target of key.
std::string target_of(const std::string& key) {
  std::string target = "/";
  target += mkv::encode_key(key);
  return target;
}

// Returns every file on every volume, as "volume-url/path".
std::set<std::string> all_files(const Cluster& c) {
  const auto files = c.all_files();
  return {files.begin(), files.end()};
}

// Returns the files the index names: each record's key on each of its volumes.
std::set<std::string> indexed_files(const Cluster& c) {
  std::set<std::string> files;
  for (const auto& [key, record] : read_index(c.db())) {
    for (const auto& url : record.volumes) files.insert(url + "/" + key);
  }
  return files;
}

std::vector<std::string> mkv_args(const Cluster& c, std::vector<std::string> command) {
  std::vector<std::string> args = {"-d", c.db().string(), "-v", join_urls(c.urls()), "-r", "2"};
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

// Stores body at path on volume v straight through its WebDAV PUT, past mkv.
void put_on_volume(const Volume& v, const std::string& path, const std::string& body) {
  const auto put = request_url(v.url() + target_of(path), "PUT", body);
  REQUIRE_MESSAGE((put.status == 201 || put.status == 204), path);
}

// Makes path on volume v look written seconds ago.
void age_file(const Volume& v, const std::string& path, std::chrono::seconds seconds) {
  const fs::path file = v.data_dir() / path;
  fs::last_write_time(file, fs::file_time_type::clock::now() - seconds);
}

// Returns the number of lines of text that start with prefix.
std::size_t lines_starting(const std::string& text, const std::string& prefix) {
  std::size_t n = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto end = text.find('\n', at);
    if (text.compare(at, prefix.size(), prefix) == 0) ++n;
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return n;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("gc deletes what no record names once older than the grace period, and the deletion "
          "sticks through a rebuild") {
  Cluster c;
  std::map<std::string, std::string> values;
  for (int i = 0; i < 60; ++i) {
    const std::string key = "live/" + std::to_string(i % 6) + "/key-" + std::to_string(i);
    values[key] = "value of " + key;
    REQUIRE(c.put(target_of(key), values[key]).status == 201);
  }

  // A DELETE whose copy on a stopped volume cannot be deleted: the record goes, a copy stays.
  REQUIRE(c.put("/doomed", "doomed value").status == 201);
  const auto doomed_on = c.holders("doomed");
  REQUIRE(doomed_on.size() == 2);
  Volume& left_behind = *c.volumes[doomed_on[0]];
  left_behind.stop();
  CHECK(c.del("/doomed").status == 204);
  left_behind.start();
  REQUIRE(left_behind.has("doomed"));

  // Beside the serve that owns the index, gc runs inside it: a dry run lists the copy left
  // behind (on stdout, as offline) and deletes nothing.
  const auto online = run(mkv_args(c, {"gc", "--grace", "0", "--dry-run"}));
  INFO(online.err);
  CHECK(online.exit_code == 0);
  CHECK(contains(online.err, "running the job inside it"));
  CHECK(contains(online.out, "would delete " + left_behind.url() + "/doomed"));
  CHECK(left_behind.has("doomed"));
  REQUIRE(c.server->stop() == 0);
  REQUIRE(read_index(c.db()).count("doomed") == 0);

  // More orphans: files PUT straight onto volumes, a copy of an indexed key on a volume its
  // record does not list, a file whose name is not a key, a staging file nobody finished.
  const std::string live0 = values.begin()->first;
  const auto live0_on = c.holders(live0);
  REQUIRE(live0_on.size() == 2);
  std::size_t third = 0;
  while (third == live0_on[0] || third == live0_on[1]) ++third;
  put_on_volume(*c.volumes[0], "stray/old", std::string(1000, 'o'));
  put_on_volume(*c.volumes[1], "stray/young", "young");
  put_on_volume(*c.volumes[third], live0, "a copy nobody lists");
  c.volumes[2]->write("latin1-\xE9", "not a key");
  put_on_volume(*c.volumes[0], ".mkv/staging/0123abcd", "staged");
  const std::set<std::string> orphans = {
      left_behind.url() + "/doomed",
      c.volumes[0]->url() + "/stray/old",
      c.volumes[1]->url() + "/stray/young",
      c.volumes[third]->url() + "/" + live0,
      c.volumes[2]->url() + "/latin1-\xE9",
      c.volumes[0]->url() + "/.mkv/staging/0123abcd",
  };
  const auto index_before = read_index(c.db());
  const auto live = indexed_files(c);
  std::set<std::string> everything = live;
  everything.insert(orphans.begin(), orphans.end());
  REQUIRE(all_files(c) == everything);

  // The default grace period of an hour: only the orphan written two hours ago goes.
  age_file(*c.volumes[0], "stray/old", 2h);
  const auto first = run(mkv_args(c, {"gc"}));
  INFO(first.err);
  CHECK(first.exit_code == 0);
  CHECK(contains(first.err, "orphans older than 3600 s: 1 (1000 B)"));
  CHECK(contains(first.err, "orphans younger than 3600 s (kept): 5"));
  CHECK(contains(first.err, "deleted: 1 (1000 B freed)"));
  CHECK(contains(first.err, "failed: 0"));
  CHECK(first.out.empty());
  everything.erase(c.volumes[0]->url() + "/stray/old");
  CHECK(all_files(c) == everything);

  // A dry run lists each orphan on stdout and deletes nothing.
  const auto dry = run(mkv_args(c, {"gc", "--dry-run", "--grace", "0"}));
  INFO(dry.out);
  INFO(dry.err);
  CHECK(dry.exit_code == 0);
  CHECK(lines_starting(dry.out, "would delete ") == orphans.size() - 1);
  CHECK(contains(dry.out, "would delete " + left_behind.url() + "/doomed (12 bytes, age "));
  CHECK(contains(dry.out, "would delete " + c.volumes[0]->url() +
                              "/.mkv/staging/0123abcd (6 bytes, age "));
  CHECK(contains(dry.out, "would delete " + c.volumes[2]->url() + "/latin1-%E9 (9 bytes"));
  CHECK(contains(dry.out, target_of(live0) + " (19 bytes, age "));
  CHECK(contains(dry.out, "): record names other volumes"));
  CHECK(contains(dry.err, "nothing was deleted"));
  CHECK(all_files(c) == everything);
  CHECK(read_index(c.db()) == index_before);

  // --grace 0: every orphan goes; every indexed copy stays, byte for byte.
  const auto collected = run(mkv_args(c, {"gc", "--grace", "0", "--concurrency", "3"}));
  INFO(collected.err);
  CHECK(collected.exit_code == 0);
  CHECK(contains(collected.err, "of which stale staging files: 1"));
  CHECK(contains(collected.err, "deleted: 5 "));
  CHECK(all_files(c) == live);
  CHECK(read_index(c.db()) == index_before);
  for (const auto& [key, record] : index_before) {
    for (const auto& v : c.volumes) {
      const bool listed = std::find(record.volumes.begin(), record.volumes.end(), v->url()) !=
                          record.volumes.end();
      if (listed) CHECK_MESSAGE(v->read(key) == values[key], key);
    }
  }

  // Nothing left: a second run finds no orphan.
  const auto idle = run(mkv_args(c, {"gc", "--grace", "0"}));
  CHECK(idle.exit_code == 0);
  CHECK(contains(idle.err, "orphans older than 0 s: 0 (0 B)"));

  // The deleted key stays deleted through a rebuild, which finds exactly the live keys.
  const auto rebuilt = run(mkv_args(c, {"rebuild"}));
  CHECK(rebuilt.exit_code == 0);
  const auto after = read_index(c.db());
  CHECK(after.count("doomed") == 0);
  CHECK(after.size() == values.size());
  for (const auto& [key, record] : after) CHECK(record.volumes == index_before.at(key).volumes);
}

TEST_CASE("gc exits 1 when a volume cannot be read or there is no index, 2 on a bad command "
          "line") {
  Cluster c;
  REQUIRE(c.put("/kept", "kept").status == 201);
  REQUIRE(c.server->stop() == 0);
  put_on_volume(*c.volumes[0], "orphan", "orphan");

  // One volume down: the others are still collected, and gc says it is not done.
  c.volumes[2]->stop();
  const auto partial = run(mkv_args(c, {"gc", "--grace", "0"}));
  INFO(partial.err);
  CHECK(partial.exit_code == 1);
  CHECK(contains(partial.err, "gc: cannot read " + c.volumes[2]->url()));
  CHECK(contains(partial.err, "volumes not read to the end: 1"));
  CHECK_FALSE(c.volumes[0]->has("orphan"));
  c.volumes[2]->start();

  // Without an index every file would look like an orphan: refuse.
  const auto no_index =
      run({"-d", (c.dir.path() / "missing.db").string(), "-v", join_urls(c.urls()), "-r", "2",
           "gc", "--grace", "0"});
  CHECK(no_index.exit_code == 1);
  CHECK(contains(no_index.err, "there is no index"));
  CHECK(c.holders("kept").size() == 2);

  CHECK(run(mkv_args(c, {"gc", "--grace", "-5"})).exit_code == 2);
  CHECK(run(mkv_args(c, {"gc", "--grace", "soon"})).exit_code == 2);
  CHECK(run(mkv_args(c, {"gc", "--concurrency", "0"})).exit_code == 2);
  CHECK(run(mkv_args(c, {"gc", "--no-such-option"})).exit_code == 2);
  const auto help = run(mkv_args(c, {"gc", "--help"}));
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "--grace"));
  CHECK(c.holders("kept").size() == 2);
}

TEST_CASE("gc collects orphans in .mkv/uploads/ and .mkv/parts/, nothing else under .mkv/") {
  Cluster c;
  REQUIRE(c.put("/kept/blob", "an indexed blob").status == 201);
  REQUIRE(c.server->stop() == 0);

  // Files of an upload no record names, as S3 multipart leaves them when its records are gone
  // (an index rebuilt from the volumes forgets unfinished uploads).
  const std::string upload_id = "0123456789abcdef0123456789abcdef";
  const std::string part = ".mkv/parts/b/" + upload_id + "/00001";
  const std::string upload = ".mkv/uploads/b/" + upload_id;
  put_on_volume(*c.volumes[0], part, "part one");
  put_on_volume(*c.volumes[1], upload, "");
  put_on_volume(*c.volumes[2], ".mkv/other/x", "not gc's");
  c.volumes[0]->write(".mkv/parts/.hidden/y", "never listed");
  const auto index_before = read_index(c.db());
  const auto live = indexed_files(c);
  REQUIRE(live.size() == 2);

  // The areas are walked only on the volumes that have them; elsewhere they are not there (404).
  const auto dry = run(mkv_args(c, {"gc", "--dry-run", "--grace", "0"}));
  INFO(dry.out);
  INFO(dry.err);
  CHECK(dry.exit_code == 0);
  CHECK(lines_starting(dry.out, "would delete ") == 2);
  CHECK(contains(dry.out, "would delete " + c.volumes[0]->url() + "/" + part + " (8 bytes, age "));
  CHECK(contains(dry.out, "): no record"));
  CHECK(contains(dry.out, "would delete " + c.volumes[1]->url() + "/" + upload + " (0 bytes"));
  CHECK(c.volumes[0]->has(part));

  const auto collected = run(mkv_args(c, {"gc", "--grace", "0"}));
  INFO(collected.err);
  CHECK(collected.exit_code == 0);
  CHECK(contains(collected.err, "deleted: 2 "));
  CHECK(contains(collected.err, "failed: 0"));
  CHECK_FALSE(c.volumes[0]->has(part));
  CHECK_FALSE(c.volumes[1]->has(upload));
  CHECK(c.volumes[2]->read(".mkv/other/x") == "not gc's");
  CHECK(c.volumes[0]->read(".mkv/parts/.hidden/y") == "never listed");
  std::set<std::string> expected = live;
  expected.insert(c.volumes[2]->url() + "/.mkv/other/x");
  expected.insert(c.volumes[0]->url() + "/.mkv/parts/.hidden/y");
  CHECK(all_files(c) == expected);
  CHECK(read_index(c.db()) == index_before);
  for (const auto& url : index_before.at("kept/blob").volumes) {
    for (const auto& v : c.volumes) {
      if (v->url() == url) CHECK(v->read("kept/blob") == "an indexed blob");
    }
  }
}
