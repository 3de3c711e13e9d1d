// The index backend this build was configured with (meson -Dindex=sqlite|lmdb|postgres).
#pragma once

#include "mkv/index.h"
#include "mkv_config.h"

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
