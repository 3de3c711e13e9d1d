// The files around an LMDB index: whether it exists, its owner lock, and the replacement that
// rebuild writes beside it and renames over it.
#include "lmdb_index.h"

#include "local_files.h"

#include <string>
#include <utility>

namespace mkv {

namespace {

// The environment and LMDB's reader table beside it.
constexpr const char* environment_files[] = {"", "-lock"};

std::string replacement_path(const std::string& path) { return path + ".rebuild"; }

}  // namespace

bool LmdbIndex::exists(const std::string& path) { return local::exists(path); }

Result<LmdbIndex::Ownership> LmdbIndex::claim(const std::string& path, std::string_view role) {
  return local::OwnerLock::acquire(path, role);
}

Result<LmdbIndex> LmdbIndex::open_replacement(const std::string& path) {
  if (auto removed = discard_replacement(path); !removed) return removed.error();
  return open(replacement_path(path));
}

Result<void> LmdbIndex::discard_replacement(const std::string& path) {
  return local::remove_files(replacement_path(path), environment_files);
}

Result<void> LmdbIndex::replace(const std::string& path, LmdbIndex&& replacement) {
  const std::string rebuilt = replacement_path(path);
  { LmdbIndex closing = std::move(replacement); }
  if (auto renamed = local::rename_over(rebuilt, path); !renamed) return renamed.error();
  // The new environment is in place; its old reader table is not needed (LMDB makes a new one
  // beside path when no process has it open).
  (void)local::remove_file(rebuilt + "-lock");
  return {};
}

}  // namespace mkv
