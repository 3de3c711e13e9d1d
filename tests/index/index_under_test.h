// The backend the index conformance suite runs against, chosen at compile time by
// MKV_TEST_SQLITE, MKV_TEST_LMDB or MKV_TEST_POSTGRES, and the helpers every conformance test
// shares.
#pragma once

#include "mkv/index.h"
#include "mkv/record.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace doctest {
// Prints a record in a failed check: its size, checksum, write time and volumes.
template <>
struct StringMaker<std::optional<mkv::Record>> {
  static String convert(const std::optional<mkv::Record>& r) {
    if (!r) return "(none)";
    std::string text = "{size " + std::to_string(r->size) + ", md5 " +
                       (r->md5 ? mkv::to_hex(*r->md5) : std::string("unknown")) + ", modified " +
                       std::to_string(r->modified) + ", volumes " +
                       mkv::encode_volumes(r->volumes) +
                       (r->meta.empty() ? "" : ", meta " + r->meta) + "}";
    return String(text.c_str());
  }
};
template <>
struct StringMaker<mkv::Record> {
  static String convert(const mkv::Record& r) {
    return StringMaker<std::optional<mkv::Record>>::convert(r);
  }
};
}  // namespace doctest

// keeps_files: the index is a file (or files) at a path; otherwise it is a database on a
// server (PostgreSQL, started once per test process), and index_path() is its URI.
#if defined(MKV_TEST_SQLITE)
#include "sqlite_index.h"
using IndexUnderTest = mkv::SqliteIndex;
inline constexpr const char* backend_name = "sqlite";
inline constexpr bool keeps_files = true;
#elif defined(MKV_TEST_LMDB)
#include "lmdb_index.h"
using IndexUnderTest = mkv::LmdbIndex;
inline constexpr const char* backend_name = "lmdb";
inline constexpr bool keeps_files = true;
#elif defined(MKV_TEST_POSTGRES)
#include "postgres_index.h"
#include "postgres_server.h"
using IndexUnderTest = mkv::PostgresIndex;
inline constexpr const char* backend_name = "postgres";
inline constexpr bool keeps_files = false;
#else
#error "define MKV_TEST_SQLITE, MKV_TEST_LMDB or MKV_TEST_POSTGRES"
#endif

static_assert(mkv::Index<IndexUnderTest>);

// Ends a test of index files (fixtures written by older releases, damaged files) with a message,
// on a backend that keeps none: its own suite (<backend>_only_test.cpp) tests the same.
#define SKIP_UNLESS_FILES()                                                               \
  if constexpr (!keeps_files) {                                                         \
    MESSAGE(std::string(backend_name) << " keeps no index files; its own suite covers this instead"); \
    return;                                                                             \
  }

// A fresh directory under /tmp, removed with everything in it when destroyed; for a backend
// on a server, also a fresh database, dropped when destroyed.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = "/tmp/mkv-index-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) FAIL("mkdtemp failed");
    path_ = pattern;
#if defined(MKV_TEST_POSTGRES)
    {
      // Database names fold to lower case; the directory's random suffix keeps them apart.
      database_ = "mkv_test_" + path_.filename().string().substr(std::string("mkv-index-test-").size());
      for (char& c : database_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      database_ += "_" + std::to_string(::getpid());
      mkv::test::shared_postgres().create_database(database_);
    }
#endif
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
#if defined(MKV_TEST_POSTGRES)
    try {
      mkv::test::shared_postgres().drop_database(database_);
    } catch (...) {
      // The server is stopped at exit anyway, with everything in it.
    }
#endif
  }

  // Returns where the index lives: a file inside this directory, or this test's database.
  std::string index_path() const {
#if defined(MKV_TEST_POSTGRES)
    return mkv::test::shared_postgres().uri(database_);
#else
    return (path_ / "index").string();
#endif
  }
  // The database of a backend on a server ("" for a file backend).
  const std::string& database() const { return database_; }

  // Copies the fixture index tests/index/fixtures/<name>.<backend> to index_path().
  void copy_fixture(const std::string& name) const {
    const std::string fixture =
        std::string(MKV_TEST_FIXTURES) + "/" + name + "." + backend_name;
    std::filesystem::copy_file(fixture, index_path());
  }

 private:
  std::filesystem::path path_;
  std::string database_;
};

// Threads that each call body(thread number) over and over until stop() or destruction, so a
// failing REQUIRE on the test's own thread cannot leave them running.
class LoopingThreads {
 public:
  template <class Body>
  LoopingThreads(int count, Body body) {
    for (int i = 0; i < count; ++i) {
      threads_.emplace_back([this, body, i] {
        while (!stopping_.load()) body(i);
      });
    }
  }
  LoopingThreads(const LoopingThreads&) = delete;
  LoopingThreads& operator=(const LoopingThreads&) = delete;
  ~LoopingThreads() { stop(); }

  // Lets each thread finish its current call, then joins them all.
  void stop() {
    stopping_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

// Returns the index at path, ending the test if it does not open.
inline IndexUnderTest open_index(const std::string& path) {
  auto index = IndexUnderTest::open(path);
  if (!index) FAIL("open failed: " << index.error().detail);
  return std::move(*index);
}

inline mkv::Record record(std::uint64_t size, std::vector<std::string> volumes = {"http://v1:80"}) {
  return mkv::Record{std::move(volumes), size};
}

inline mkv::Write put(std::string key, mkv::Record r) { return {std::move(key), std::move(r)}; }
inline mkv::Write erase(std::string key) { return {std::move(key), std::nullopt}; }

// Applies batch, failing the test if it does not succeed.
inline void apply_ok(IndexUnderTest& index, const std::vector<mkv::Write>& batch) {
  const auto applied = index.apply(batch);
  REQUIRE_MESSAGE(applied.has_value(), applied.error().detail);
}

// Returns the record of key, failing the test on an error.
inline std::optional<mkv::Record> get_ok(IndexUnderTest& index, std::string_view key) {
  auto got = index.get(key);
  REQUIRE_MESSAGE(got.has_value(), got.error().detail);
  return std::move(*got);
}

// Returns list(prefix, start, limit), failing the test on an error.
inline std::vector<std::string> list_ok(IndexUnderTest& index, std::string_view prefix,
                                        std::string_view start, std::size_t limit) {
  auto keys = index.list(prefix, start, limit);
  REQUIRE_MESSAGE(keys.has_value(), keys.error().detail);
  return std::move(*keys);
}

// Returns scan(start, limit), failing the test on an error.
inline std::vector<mkv::Entry> scan_ok(IndexUnderTest& index, std::string_view start,
                                       std::size_t limit) {
  auto entries = index.scan(start, limit);
  REQUIRE_MESSAGE(entries.has_value(), entries.error().detail);
  return std::move(*entries);
}

// Returns every key under prefix, read the way the server pages: pages of page_size keys,
// each page asked for with one extra key whose value starts the next page.
inline std::vector<std::string> list_paged(IndexUnderTest& index, std::string_view prefix,
                                           std::size_t page_size) {
  std::vector<std::string> all;
  std::string start;
  for (;;) {
    auto rows = list_ok(index, prefix, start, page_size + 1);
    REQUIRE(rows.size() <= page_size + 1);
    const bool more = rows.size() > page_size;
    if (more) start = rows[page_size];
    rows.resize(std::min(rows.size(), page_size));
    all.insert(all.end(), rows.begin(), rows.end());
    if (!more) return all;
  }
}

// Returns every entry of the index, read in pages of page_size entries.
inline std::vector<mkv::Entry> scan_all(IndexUnderTest& index, std::size_t page_size = 1000) {
  std::vector<mkv::Entry> all;
  std::string start;
  for (;;) {
    auto rows = scan_ok(index, start, page_size + 1);
    const bool more = rows.size() > page_size;
    if (more) start = rows[page_size].key;
    rows.resize(std::min(rows.size(), page_size));
    for (auto& e : rows) all.push_back(std::move(e));
    if (!more) return all;
  }
}

// Stores a row under key whose volumes text is not JSON, bypassing the index's own writer.
// The index at path must be closed. Each backend's test source defines it.
void write_corrupt_volumes(const std::string& path, const std::string& key);
