// The index backend this build was configured with (meson -Dindex=sqlite|lmdb|postgres).
#pragma once

#include "mkv/index.h"
#include "mkv_config.h"

#include <string>

#if MKV_INDEX_LMDB
#include "lmdb_index.h"
namespace mkv {
using IndexBackend = LmdbIndex;
}
#elif MKV_INDEX_POSTGRES
#include "postgres_index.h"
namespace mkv {
using IndexBackend = PostgresIndex;
}
#else
#include "sqlite_index.h"
namespace mkv {
using IndexBackend = SqliteIndex;
}
#endif

static_assert(mkv::Index<mkv::IndexBackend>);

namespace mkv {
// Whether the index is kept in files at a path (SQLite, LMDB), which the files beside it (the
// admin address) can sit next to; otherwise it lives in a database server (PostgreSQL) and its
// location is a connection string.
inline constexpr bool index_in_files = !MKV_INDEX_POSTGRES;

// Returns how messages name the index at location: the path, or the database without a
// password.
inline std::string index_name(const std::string& location) {
#if MKV_INDEX_POSTGRES
  return PostgresIndex::describe(location);
#else
  return location;
#endif
}
}  // namespace mkv
