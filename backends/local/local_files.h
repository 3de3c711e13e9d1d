// The files of an index kept in local files (the SQLite and LMDB backends): removing them,
// making renames durable, and the journals that jobs keep beside the index. Nothing outside
// backends/ knows these files.
#pragma once

#include "mkv/error.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mkv::local {

// Returns whether something exists at path.
[[nodiscard]] bool exists(const std::string& path);

// Removes the file at path if there is one; fails only if it exists and cannot be removed.
[[nodiscard]] Result<void> remove_file(const std::string& path);

// Removes base + suffix for each suffix ("" for base itself), as remove_file does.
[[nodiscard]] Result<void> remove_files(const std::string& base,
                                        std::span<const char* const> suffixes);

// Makes the creation, removal or rename of files in path's directory durable (fsync of the
// directory).
[[nodiscard]] Result<void> sync_directory_of(const std::string& path);

// Renames from over to in one step, then syncs the directory so the rename survives a power
// loss. Fails only if the rename did not happen (a failed sync is not reported: by then the
// rename is visible and cannot be taken back).
[[nodiscard]] Result<void> rename_over(const std::string& from, const std::string& to);

// Returns where the index at index_path keeps the journal called name:
// "<index_path>.<name>-journal" (e.g. "index.db.rebalance-journal").
[[nodiscard]] std::string journal_path(const std::string& index_path, std::string_view name);

// Returns the text of the journal called name at path, or nullopt if there is none.
[[nodiscard]] Result<std::optional<std::string>> read_journal(const std::string& path,
                                                              std::string_view name);

// Writes text as the journal called name at path and returns once it is on disk.
[[nodiscard]] Result<void> write_journal(const std::string& path, std::string_view name,
                                         std::string_view text);

// Removes the journal called name at path; not having one is not an error.
[[nodiscard]] Result<void> remove_journal(const std::string& path, std::string_view name);

}  // namespace mkv::local
