// Durability of file creation, removal and rename: fsync of the containing directory.
#pragma once

#include "mkv/error.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace mkv {

// Makes the creation, removal or rename of files in path's directory durable.
inline Result<void> sync_directory_of(const std::string& path) {
  const auto dir = std::filesystem::absolute(path).parent_path();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::database("cannot open directory " + dir.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error::database("cannot sync directory " + dir.string());
  return {};
}

}  // namespace mkv
