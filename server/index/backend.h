// The index backend this build was configured with (meson -Dindex=sqlite|lmdb).
#pragma once

#include "mkv/index.h"
#include "mkv_config.h"

#if MKV_INDEX_LMDB
#include "lmdb_index.h"
namespace mkv {
using IndexBackend = LmdbIndex;
}
#else
#include "sqlite_index.h"
namespace mkv {
using IndexBackend = SqliteIndex;
}
#endif

static_assert(mkv::Index<mkv::IndexBackend>);
