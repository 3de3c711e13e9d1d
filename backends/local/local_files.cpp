// The files of an index kept in local files (see local_files.h).
#include "local_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace mkv::local {

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

Result<void> remove_file(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return Error::database("cannot remove " + path + ": " + ec.message());
  return {};
}

Result<void> remove_files(const std::string& base, std::span<const char* const> suffixes) {
  for (const char* suffix : suffixes) {
    if (auto removed = remove_file(base + suffix); !removed) return removed.error();
  }
  return {};
}

Result<void> sync_directory_of(const std::string& path) {
  const auto dir = std::filesystem::absolute(path).parent_path();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::database("cannot open directory " + dir.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error::database("cannot sync directory " + dir.string());
  return {};
}

Result<void> rename_over(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::rename(from, to, ec);
  if (ec) return Error::database("cannot rename " + from + " to " + to + ": " + ec.message());
  (void)sync_directory_of(to);  // the rename has happened either way
  return {};
}

std::string journal_path(const std::string& index_path, std::string_view name) {
  return index_path + '.' + std::string(name) + "-journal";
}

Result<std::optional<std::string>> read_journal(const std::string& path, std::string_view name) {
  if (!exists(path)) return std::optional<std::string>();
  const auto cannot = [&] {
    return Error::database("cannot read the " + std::string(name) + " journal " + path);
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return cannot();
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return cannot();
  return std::optional<std::string>(std::move(text));
}

Result<void> write_journal(const std::string& path, std::string_view name, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::database("cannot create the " + std::string(name) + " journal " + path);
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool synced = done == text.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Error::database("cannot write the " + std::string(name) + " journal " + path);
  return sync_directory_of(path);
}

Result<void> remove_journal(const std::string& path, std::string_view name) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::database("cannot remove the " + std::string(name) + " journal " + path);
  }
  return {};
}

}  // namespace mkv::local
