// Where a running `mkv serve` records its admin listener's address ("HOST:PORT"), so that the
// CLI finds it and hands a job over instead of refusing an index in use. An index kept in files
// gets a file beside it ("<db>.admin", next to the owner lock "<db>.lock"); an index in a
// database server gets the journal "admin" in the database, which any server sharing it
// overwrites: the CLI then reaches whichever server recorded last.
#pragma once

#include "index/backend.h"

#include <optional>
#include <string>
#include <utility>

namespace mkv {

// Records address for the index at location (opened as index), replacing what was recorded;
// logs a warning when it cannot.
void record_admin_address(IndexBackend& index, const std::string& location,
                          const std::string& address);

// Removes the record, if it is still address (another server may have recorded its own since).
void forget_admin_address(IndexBackend& index, const std::string& location,
                          const std::string& address);

// Returns the address recorded for the index at location, split into host and port, if any.
std::optional<std::pair<std::string, std::string>> recorded_admin_address(
    const std::string& location);

}  // namespace mkv
