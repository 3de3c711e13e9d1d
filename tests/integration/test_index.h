// The index backend mkv was built with, opened directly by tests that look at what a server or a
// command left in it (only while no mkv process owns it): TestIndex and read_index().
#pragma once

#include "harness.h"

#include "mkv/record.h"
#include "mkv_config.h"

#if MKV_INDEX_LMDB
#include "lmdb_index.h"
#elif MKV_INDEX_POSTGRES
#include "postgres_index.h"
#else
#include "sqlite_index.h"
#endif

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>

namespace mkv::test {

#if MKV_INDEX_LMDB
using TestIndex = mkv::LmdbIndex;
#elif MKV_INDEX_POSTGRES
using TestIndex = mkv::PostgresIndex;
#else
using TestIndex = mkv::SqliteIndex;
#endif

// Returns every record of the index a test placed at db (index_location() finds it).
inline std::map<std::string, mkv::Record> read_index(const std::filesystem::path& db) {
  auto index = TestIndex::open(index_location(db));
  REQUIRE_MESSAGE(index.has_value(), "cannot open index " << db.string());
  auto entries = index->scan("", 100'000'000);
  REQUIRE(entries.has_value());
  std::map<std::string, mkv::Record> records;
  for (auto& e : *entries) records.emplace(std::move(e.key), std::move(e.record));
  return records;
}

}  // namespace mkv::test
