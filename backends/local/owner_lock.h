// Exclusive ownership of an index: one process at a time (serve, rebuild or rebalance) holds
// an flock on "<db>.lock", which records its pid and role for the message others get.
#pragma once

#include "mkv/error.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>

namespace mkv::local {

class OwnerLock {
 public:
  // Returns the lock of the index at db, or an error naming the process that holds it.
  static Result<OwnerLock> acquire(const std::string& db, std::string_view role) {
    const std::string path = db + ".lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Error::database("cannot open lock file " + path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      char holder[128] = {};
      const auto n = ::pread(fd, holder, sizeof holder - 1, 0);
      ::close(fd);
      std::string who = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "unknown";
      while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
      return Error::database("index " + db + " is in use by another mkv process (" + who + ")");
    }
    const std::string me = "pid " + std::to_string(::getpid()) + ", " + std::string(role) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
      // The lock is held; the note for others is only a courtesy.
    }
    return OwnerLock(fd);
  }

  OwnerLock(OwnerLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnerLock& operator=(OwnerLock&&) = delete;
  ~OwnerLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit OwnerLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace mkv::local
