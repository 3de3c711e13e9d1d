// Recording the admin listener's address (see admin_address.h).
#include "admin/admin_address.h"

#include "log.h"

#include <cstdio>
#include <fstream>

namespace mkv {

namespace {

std::string address_file(const std::string& db) { return db + ".admin"; }

// Splits "HOST:PORT" at its last colon.
std::optional<std::pair<std::string, std::string>> split(const std::string& line) {
  const auto colon = line.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) return std::nullopt;
  return std::pair{line.substr(0, colon), line.substr(colon + 1)};
}

}  // namespace

void record_admin_address(IndexBackend& index, const std::string& location,
                          const std::string& address) {
  if constexpr (!index_in_files) {
    if (auto ok = index.write_journal("admin", address); !ok) {
      log_line("warning: cannot record the admin address (" + ok.error().detail +
               "); the CLI cannot find the admin listener");
    }
    return;
  }
  // Through a temporary file renamed into place, so a reader never sees half of it.
  const std::string path = address_file(location);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << address << '\n';
    if (!out) {
      log_line("warning: cannot write " + temporary + "; the CLI cannot find the admin listener");
      return;
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    log_line("warning: cannot write " + path + "; the CLI cannot find the admin listener");
  }
}

void forget_admin_address(IndexBackend& index, const std::string& location,
                          const std::string& address) {
  if constexpr (!index_in_files) {
    auto recorded = index.read_journal("admin");
    if (recorded && *recorded == address) (void)index.remove_journal("admin");
    return;
  }
  std::remove(address_file(location).c_str());
}

std::optional<std::pair<std::string, std::string>> recorded_admin_address(
    const std::string& location) {
  if constexpr (!index_in_files) {
    if (!IndexBackend::exists(location)) return std::nullopt;
    auto index = IndexBackend::open(location);
    if (!index) return std::nullopt;
    auto recorded = index->read_journal("admin");
    if (!recorded || !*recorded) return std::nullopt;
    return split(**recorded);
  }
  std::ifstream in(address_file(location));
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return split(line);
}

}  // namespace mkv
