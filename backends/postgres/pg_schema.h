// The PostgreSQL index's schema and how it changes: numbered migrations, applied in place by
// whichever process opens the index first (under a lock, so several servers starting at once
// migrate it once).
//
// A database holds one store, in three schemas:
//   mkv          the index itself (what rebuild replaces whole)
//     blobs   (key bytea PRIMARY KEY, volumes text, size int8, md5 bytea NULL = unknown,
//              modified int8, meta bytea NULL = none)   -- bytea: keys order as memcmp does
//     intents (token text PRIMARY KEY, key bytea, volumes text, previous_* as in blobs)
//     repairs (key bytea PRIMARY KEY)                    -- keys marked for repair
//     counts  (shard int4 PRIMARY KEY, value int8)       -- the count of keys, in 16 rows that
//              writers pick by process, so servers do not queue on one row; count() sums them
//   mkv_rebuild  a replacement being written by rebuild, laid out as mkv; renamed to mkv in the
//                transaction that drops the old one
//   mkv_control  what outlives a rebuild:
//     schema   (version int4)                           -- the schema version, one row
//     journals (name text PRIMARY KEY, body bytea)      -- jobs' journals
//     leases   (key bytea PRIMARY KEY, owner text, expires timestamptz)  -- cross-server key locks
//     commits  (token text PRIMARY KEY, at timestamptz)  -- each writer's last transaction
#pragma once

#include <iterator>
#include <string>

namespace mkv::pg {

// The schema the index lives in, and the one a rebuild writes before it takes its place.
inline constexpr const char* live_schema = "mkv";
inline constexpr const char* replacement_schema = "mkv_rebuild";

// The number of rows the count of keys is spread over.
inline constexpr int count_shards = 16;

// Returns the SQL that creates the index's tables in schema (live_schema or
// replacement_schema), at the current version.
inline std::string content_schema_sql(const std::string& schema) {
  return "CREATE SCHEMA " + schema + ";" +
         "CREATE TABLE " + schema + ".blobs (key bytea PRIMARY KEY, volumes text NOT NULL,"
         " size int8 NOT NULL, md5 bytea, modified int8 NOT NULL DEFAULT 0, meta bytea);"
         "CREATE TABLE " + schema + ".intents (token text PRIMARY KEY, key bytea NOT NULL,"
         " volumes text NOT NULL, previous_volumes text NOT NULL, previous_size int8 NOT NULL,"
         " previous_md5 bytea, previous_modified int8 NOT NULL DEFAULT 0, previous_meta bytea);"
         "CREATE TABLE " + schema + ".repairs (key bytea PRIMARY KEY);"
         "CREATE TABLE " + schema + ".counts (shard int4 PRIMARY KEY, value int8 NOT NULL);"
         "INSERT INTO " + schema + ".counts SELECT g, 0 FROM generate_series(0, " +
         std::to_string(count_shards - 1) + ") g;";
}

// migrations[v] upgrades a database at schema version v to v + 1; version 0 is a database
// without mkv's schemas. Append a step to change the schema (both the live and, if present, the
// replacement schema); never edit one that has shipped.
inline const std::string migrations[] = {
    // 0 -> 1: everything.
    "CREATE SCHEMA mkv_control;"
    "CREATE TABLE mkv_control.schema (version int4 NOT NULL);"
    "INSERT INTO mkv_control.schema VALUES (0);"
    "CREATE TABLE mkv_control.journals (name text PRIMARY KEY, body bytea NOT NULL);"
    "CREATE TABLE mkv_control.leases (key bytea PRIMARY KEY, owner text NOT NULL,"
    " expires timestamptz NOT NULL);"
    "" +
        content_schema_sql(live_schema),
    // 1 -> 2: a mark each write transaction leaves, so that a writer whose connection was lost
    // before COMMIT answered can tell afterwards whether it committed.
    "CREATE TABLE mkv_control.commits (token text PRIMARY KEY,"
    " at timestamptz NOT NULL DEFAULT now())",
};

// The schema version this build reads and writes.
inline constexpr int schema_version = static_cast<int>(std::size(migrations));

// The advisory locks mkv takes are keyed by two int4s: a class, so they never meet another
// application's locks in the same database, and an object.
inline constexpr int control_lock_class = 0x6d6b7631;  // "mkv1": objects below
inline constexpr int migration_lock = 0;               // held while migrating
inline constexpr int owner_lock = 1;  // held by the index's owners (claim), each session
                                       // naming its process in application_name
inline constexpr int job_lock = 3;    // held by the server running an online job
inline constexpr int write_lock = 2;  // every write transaction: shared, or exclusive (below)
inline constexpr int key_lock_class = 0x6d6b7632;      // "mkv2": the object is a key's hash
inline constexpr int identity_lock_class = 0x6d6b7633;  // "mkv3": a serve's identity's hash

}  // namespace mkv::pg
