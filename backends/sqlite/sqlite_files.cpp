// The files around a SQLite index: whether it exists, its owner lock, and the replacement that
// rebuild writes beside it and renames over it.
#include "sqlite_index.h"

#include "local_files.h"

#include <iterator>
#include <string>
#include <utility>

namespace mkv {

namespace {

// The files SQLite may keep beside a database: its write-ahead log and shared memory, and a
// rollback journal.
constexpr const char* companions[] = {"-wal", "-shm", "-journal"};
constexpr const char* database_and_companions[] = {"", "-wal", "-shm", "-journal"};

std::string replacement_path(const std::string& path) { return path + ".rebuild"; }

}  // namespace

bool SqliteIndex::exists(const std::string& path) { return local::exists(path); }

Result<SqliteIndex::Ownership> SqliteIndex::claim(const std::string& path, std::string_view role) {
  return local::OwnerLock::acquire(path, role);
}

Result<SqliteIndex> SqliteIndex::open_replacement(const std::string& path) {
  if (auto removed = discard_replacement(path); !removed) return removed.error();
  return open(replacement_path(path));
}

Result<void> SqliteIndex::discard_replacement(const std::string& path) {
  return local::remove_files(replacement_path(path), database_and_companions);
}

Result<void> SqliteIndex::replace(const std::string& path, SqliteIndex&& replacement) {
  const std::string rebuilt = replacement_path(path);
  { SqliteIndex closing = std::move(replacement); }  // closing folds its log into the file
  if (local::exists(rebuilt + "-wal")) {
    return Error::database("the new index " + rebuilt + " still has a write-ahead log");
  }
  if (local::exists(path)) {
    auto old = open(path);
    if (!old && local::exists(path + "-wal")) {
      return Error::database("cannot open the old index to fold in its write-ahead log (" +
                             old.error().detail + "); move " + path + " and " + path +
                             "-wal aside and run rebuild again");
    }
  }  // the old index closes here
  if (local::exists(path + "-wal")) {
    return Error::database(path + "-wal is still there after closing the old index; is another "
                           "program using it?");
  }
  if (auto removed = local::remove_file(path + "-shm"); !removed) return removed.error();
  if (auto renamed = local::rename_over(rebuilt, path); !renamed) return renamed.error();
  // From here on the new index is in place; what follows is tidying up.
  (void)local::remove_files(rebuilt, companions);
  return {};
}

}  // namespace mkv
