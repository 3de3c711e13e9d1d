// The SQLite index's schema and the one way it changes: numbered migrations, applied in place
// when an index is opened.
//
// Schema, version 5 (the version is kept in PRAGMA user_version):
//
//   CREATE TABLE blobs (
//     key      TEXT PRIMARY KEY NOT NULL,  -- the key's bytes; BINARY collation: memcmp order
//     volumes  TEXT NOT NULL,              -- JSON array of volume URLs (encode_volumes)
//     size     INTEGER NOT NULL,           -- blob size in bytes
//     md5      BLOB,                       -- the 16 bytes of its MD5; NULL: unknown
//     modified INTEGER NOT NULL DEFAULT 0, -- when it was written, seconds since the epoch
//     meta     BLOB                        -- what was stored with it (Record::meta); NULL: none
//   ) WITHOUT ROWID;
//   CREATE TABLE intents (                 -- overwrites committed, not yet moved (Intent)
//     token             TEXT PRIMARY KEY NOT NULL,  -- the staging file's name
//     key               TEXT NOT NULL,
//     volumes           TEXT NOT NULL,     -- JSON array: the volumes it was staged on
//     previous_volumes  TEXT NOT NULL,     -- the record before the overwrite
//     previous_size     INTEGER NOT NULL,
//     previous_md5      BLOB,
//     previous_modified INTEGER NOT NULL DEFAULT 0,
//     previous_meta     BLOB
//   ) WITHOUT ROWID;
//   CREATE TABLE repairs (                 -- keys marked for repair (Write::repair)
//     key TEXT PRIMARY KEY NOT NULL
//   ) WITHOUT ROWID;
//   CREATE TABLE counts (                  -- counts kept by every write: 'keys' (in blobs)
//     name  TEXT PRIMARY KEY NOT NULL,
//     value INTEGER NOT NULL
//   ) WITHOUT ROWID;
#pragma once

#include "mkv/error.h"

#include <sqlite3.h>

#include <iterator>

namespace mkv::sqlite {

// migrations[v] is the SQL that upgrades a database at schema version v to v + 1. Version 0 is
// a new, empty file. Append a step to change the schema; never edit one that has shipped.
inline constexpr const char* migrations[] = {
    // 0 -> 1: the blobs table ("IF NOT EXISTS": the first builds made it without recording a
    // version, and such a file is adopted as it is).
    "CREATE TABLE IF NOT EXISTS blobs ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " volumes TEXT NOT NULL,"
    " size INTEGER NOT NULL"
    ") WITHOUT ROWID",
    // 1 -> 2: the intents of overwrites.
    "CREATE TABLE intents ("
    " token TEXT PRIMARY KEY NOT NULL,"
    " key TEXT NOT NULL,"
    " volumes TEXT NOT NULL,"
    " previous_volumes TEXT NOT NULL,"
    " previous_size INTEGER NOT NULL"
    ") WITHOUT ROWID",
    // 2 -> 3: checksums and write times (unknown, and 0, for the records already there).
    "ALTER TABLE blobs ADD COLUMN md5 BLOB;"
    "ALTER TABLE blobs ADD COLUMN modified INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE intents ADD COLUMN previous_md5 BLOB;"
    "ALTER TABLE intents ADD COLUMN previous_modified INTEGER NOT NULL DEFAULT 0",
    // 3 -> 4: the keys marked for repair, and the count of keys (counted once here).
    "CREATE TABLE repairs (key TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE counts (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counts (name, value) VALUES ('keys', (SELECT count(*) FROM blobs))",
    // 4 -> 5: what is stored with a blob (none for the records already there).
    "ALTER TABLE blobs ADD COLUMN meta BLOB;"
    "ALTER TABLE intents ADD COLUMN previous_meta BLOB",
};

// The schema version this build reads and writes.
inline constexpr int schema_version = static_cast<int>(std::size(migrations));

// Brings the database of db to schema_version in one transaction: runs every migration from
// its recorded version on. Fails, changing nothing, for a version newer than this build's.
[[nodiscard]] Result<void> migrate(sqlite3* db);

}  // namespace mkv::sqlite
