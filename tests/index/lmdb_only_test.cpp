// What only the LMDB backend has: the map that grows when full, the bucket layout checked
// against damage, and the recorded format. Also writes the conformance suite's corrupt row.
#include "index_under_test.h"

#include <lmdb.h>

#include <atomic>
#include <filesystem>

using mkv::Write;

namespace {

// Stores value under key in the named database of the closed LMDB index at path, bypassing
// the index.
void raw_put(const std::string& path, const char* database, std::string_view key,
             std::string_view value) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == MDB_SUCCESS);
  mdb_env_set_maxdbs(env, 2);
  int rc = mdb_env_open(env, path.c_str(), MDB_NOSUBDIR, 0644);
  MDB_txn* txn = nullptr;
  if (rc == MDB_SUCCESS) rc = mdb_txn_begin(env, nullptr, 0, &txn);
  MDB_dbi dbi = 0;
  if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn, database, 0, &dbi);
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  if (rc == MDB_SUCCESS) rc = mdb_put(txn, dbi, &k, &v, 0);
  if (rc == MDB_SUCCESS) {
    rc = mdb_txn_commit(txn);
  } else if (txn) {
    mdb_txn_abort(txn);
  }
  CHECK_MESSAGE(rc == MDB_SUCCESS, std::string(mdb_strerror(rc)));
  mdb_env_close(env);
}

constexpr std::size_t small_map = 256 * 1024;

// Returns batch b of keys with a volume list long enough to fill a small map quickly.
std::vector<Write> bulky_batch(int b, int keys) {
  std::vector<Write> batch;
  for (int i = 0; i < keys; ++i) {
    batch.push_back(put("grow/" + std::to_string(b) + "/" + std::to_string(i),
                        record(b, {"http://volume-" + std::string(200, 'v') + ":80"})));
  }
  return batch;
}

}  // namespace

void write_corrupt_volumes(const std::string& path, const std::string& key) {
  REQUIRE(key.size() < 128);  // a bucket of its own, with one-byte varint lengths
  const std::string volumes = "not json [";
  std::string value;
  value.push_back(0);  // suffix length: the whole key is the bucket key
  value.push_back(1);  // size
  value.push_back(static_cast<char>(volumes.size()));
  value += volumes;
  value.push_back(0);  // checksum unknown
  value.push_back(0);  // modified
  raw_put(path, "blobs", key, value);
}

TEST_CASE("lmdb: the index is one file plus its lock file") {
  ScratchDir dir;
  { auto index = open_index(dir.index_path()); }
  CHECK(std::filesystem::is_regular_file(dir.index_path()));
  CHECK(std::filesystem::is_regular_file(dir.index_path() + "-lock"));
}

TEST_CASE("lmdb: a full map grows while readers run, and no write is lost") {
  ScratchDir dir;
  auto opened = mkv::LmdbIndex::open(dir.index_path(), small_map);
  REQUIRE_MESSAGE(opened.has_value(), opened.error().detail);
  auto& index = *opened;

  std::atomic<long> errors{0}, reads{0};
  LoopingThreads readers(4, [&](int) {
    const auto listed = index.list("grow/", "", 100);
    const auto got = index.get("grow/0/0");
    if (!listed || !got) ++errors;
    ++reads;
  });
  constexpr int batches = 40, keys = 500;  // about 6 MB of records against a 256 KiB map
  for (int b = 0; b < batches; ++b) apply_ok(index, bulky_batch(b, keys));
  readers.stop();
  CHECK(errors.load() == 0);
  CHECK(reads.load() > 0);

  CHECK(std::filesystem::file_size(dir.index_path()) > small_map);
  CHECK(list_paged(index, "grow/", 5000).size() == batches * keys);
  CHECK(get_ok(index, "grow/39/499") ==
        record(39, {"http://volume-" + std::string(200, 'v') + ":80"}));

}

TEST_CASE("lmdb: reopening a grown index with a small initial map keeps everything") {
  ScratchDir dir;
  {
    auto index = mkv::LmdbIndex::open(dir.index_path(), small_map);
    REQUIRE(index.has_value());
    // One batch far larger than the whole map: it is retried after each doubling.
    apply_ok(*index, bulky_batch(0, 20000));
  }
  auto index = mkv::LmdbIndex::open(dir.index_path(), small_map);
  REQUIRE_MESSAGE(index.has_value(), index.error().detail);
  CHECK(list_paged(*index, "grow/0/", 5000).size() == 20000);
  apply_ok(*index, bulky_batch(1, 5000));
  CHECK(list_paged(*index, "grow/", 5000).size() == 25000);
}

TEST_CASE("lmdb: a malformed bucket is a database error") {
  ScratchDir dir;
  {
    auto index = open_index(dir.index_path());
    apply_ok(index, {put("a", record(1)), put("c", record(3))});
  }
  raw_put(dir.index_path(), "blobs", "b", "\x05\x01");  // a suffix length past the end
  auto index = open_index(dir.index_path());
  const auto expected = mkv::Error::database("corrupt index entry under key b");
  CHECK(index.get("b").error() == expected);
  CHECK(index.list("", "", 10).error() == expected);
  CHECK(index.scan("", 10).error() == expected);
  CHECK(index.apply(std::vector<Write>{put("b", record(2))}).error() == expected);
  CHECK(get_ok(index, "a") == record(1));
  CHECK(list_ok(index, "c", "", 10) == std::vector<std::string>{"c"});
}

TEST_CASE("lmdb: an index of another format is refused") {
  ScratchDir dir;
  { auto index = open_index(dir.index_path()); }
  raw_put(dir.index_path(), "meta", "format", "mkv-lmdb 6 511");
  const auto index = mkv::LmdbIndex::open(dir.index_path());
  REQUIRE_FALSE(index.has_value());
  CHECK(index.error().code == mkv::errc::database);
  CHECK(index.error().detail.find("mkv-lmdb 6 511") != std::string::npos);
}
