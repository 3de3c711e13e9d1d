// Helpers shared by the fault suites: keys placed on a chosen volume, waiting for a condition,
// reading the index file directly, and checking that the index and the volumes agree.
#pragma once

#include "cluster.h"
#include "test_index.h"

#include "mkv/key.h"
#include "mkv/placement.h"
#include "mkv/record.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mkv::test {

// Returns the request target of key: "/" and the key percent-encoded.
inline std::string target_of(std::string_view key) {
  std::string target = "/";
  target += mkv::encode_key(key);
  return target;
}

// Returns the first key "{stem}{n}" whose placement (r of urls) includes urls[must], at
// position `at` of the placement if given.
inline std::string key_placed_on(const std::vector<std::string>& urls, std::size_t must,
                                 std::size_t r, std::optional<std::size_t> at = std::nullopt,
                                 std::string_view stem = "k") {
  for (int i = 0;; ++i) {
    std::string key(stem);
    key += std::to_string(i);
    const auto placement = *mkv::volumes_for_key(key, urls, r);
    const auto it = std::find(placement.begin(), placement.end(), urls[must]);
    if (it == placement.end()) continue;
    if (at && static_cast<std::size_t>(it - placement.begin()) != *at) continue;
    return key;
  }
}

// Returns whether urls[which] is among the r placement volumes of key.
inline bool placed_on(std::string_view key, const std::vector<std::string>& urls,
                      std::size_t which, std::size_t r) {
  const auto placement = *mkv::volumes_for_key(key, urls, r);
  return std::find(placement.begin(), placement.end(), urls[which]) != placement.end();
}

// Waits until pred holds or timeout passes; returns pred().
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// Returns the volume of a cluster by URL, or nullptr.
inline Volume* volume_by_url(const Cluster& c, std::string_view url) {
  for (const auto& v : c.volumes) {
    if (v->url() == url) return v.get();
  }
  return nullptr;
}

// Checks that every indexed key has a file on each volume its record names, of the recorded
// size, with the same bytes on every one of them; returns each key's bytes.
inline std::map<std::string, std::string> check_index_matches_volumes(
    const Cluster& c, const std::map<std::string, mkv::Record>& index) {
  std::map<std::string, std::string> bytes;
  for (const auto& [key, record] : index) {
    CAPTURE(key);
    REQUIRE(!record.volumes.empty());
    std::optional<std::string> first;
    for (const auto& url : record.volumes) {
      const Volume* v = volume_by_url(c, url);
      REQUIRE_MESSAGE(v != nullptr, "record names unknown volume " << url);
      REQUIRE_MESSAGE(v->has(key), "indexed key has no blob on " << url);
      std::string held = v->read(key);
      CHECK(held.size() == record.size);
      if (!first) {
        first = std::move(held);
      } else {
        CHECK_MESSAGE(held == *first, "replicas of the key differ");
      }
    }
    bytes[key] = first.value_or("");
  }
  return bytes;
}

// Returns the files on the cluster's volumes that the index does not account for, as
// "URL/path": blobs no record names on that volume, and anything under /.mkv/.
inline std::vector<std::string> unindexed_files(const Cluster& c,
                                                const std::map<std::string, mkv::Record>& index) {
  std::vector<std::string> out;
  for (const auto& v : c.volumes) {
    for (const auto& f : v->files()) {
      const auto found = index.find(f);
      const bool named = found != index.end() &&
                         std::find(found->second.volumes.begin(), found->second.volumes.end(),
                                   v->url()) != found->second.volumes.end();
      if (!named) out.push_back(v->url() + "/" + f);
    }
  }
  return out;
}

// A plain blocking TCP connection to 127.0.0.1:port for writing bytes exactly as given
// (malformed HTTP, bodies that stop half way, one byte at a time). Closes on destruction.
class RawSocket {
 public:
  // source: the local address to connect from (any 127.x.y.z works on Linux loopback).
  explicit RawSocket(std::uint16_t port, const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    if (source) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      REQUIRE(::inet_pton(AF_INET, source, &local.sin_addr) == 1);
      REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }

  // Writes all of bytes; returns false if the peer closed or reset the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Returns what arrives until the peer closes or timeout passes without data; *closed says
  // whether the peer closed (or reset) the connection.
  std::string receive(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    std::string got;
    bool peer_closed = false;
    char buffer[16384];
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) break;
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        peer_closed = true;
        break;
      }
      got.append(buffer, static_cast<std::size_t>(n));
    }
    if (closed) *closed = peer_closed;
    return got;
  }

  // Returns whether the peer has closed the connection (waits up to timeout for it), reading
  // and dropping whatever it sent before.
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    bool closed = false;
    (void)receive(timeout, &closed);
    return closed;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// Returns the resident set size of pid in KiB, or 0.
inline long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// Returns the status code of the first HTTP response in raw bytes, or 0 if there is none.
inline unsigned first_status(std::string_view raw) {
  if (raw.size() < 12 || !raw.starts_with("HTTP/1.")) return 0;
  return static_cast<unsigned>(std::stoul(std::string(raw.substr(9, 3))));
}

// Returns how many HTTP responses raw bytes hold (counts status lines).
inline std::size_t response_count(std::string_view raw) {
  std::size_t n = 0;
  for (auto at = raw.find("HTTP/1.1 "); at != std::string_view::npos;
       at = raw.find("HTTP/1.1 ", at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace mkv::test
