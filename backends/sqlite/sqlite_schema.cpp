// Schema migrations of the SQLite index (see sqlite_schema.h).
#include "sqlite_schema.h"

#include "sqlite_handles.h"

#include <charconv>
#include <string>

namespace mkv::sqlite {

namespace {

// Runs the migrations from the database's recorded version on, inside an open transaction.
Result<void> upgrade(sqlite3* db) {
  auto text = query_text(db, "PRAGMA user_version");
  if (!text) return text.error();
  int version = 0;
  std::from_chars(text->data(), text->data() + text->size(), version);
  if (version > schema_version || version < 0) {
    return Error::database("index schema version " + *text + " is not supported (this build uses " +
                           std::to_string(schema_version) + ")");
  }
  if (version == schema_version) return {};
  for (int v = version; v < schema_version; ++v) {
    if (auto ok = exec(db, migrations[v]); !ok) return ok.error();
  }
  return exec(db, ("PRAGMA user_version = " + std::to_string(schema_version)).c_str());
}

}  // namespace

Result<void> migrate(sqlite3* db) {
  if (auto ok = exec(db, "BEGIN IMMEDIATE"); !ok) return ok.error();
  const Result<void> outcome = upgrade(db);
  if (!outcome) {
    (void)exec(db, "ROLLBACK");
    return outcome.error();
  }
  return exec(db, "COMMIT");
}

}  // namespace mkv::sqlite
