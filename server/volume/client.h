// The volumes a process talks to, by URL, and the requests that need no streaming: DELETE,
// MOVE, and a GET whose whole answer is read into memory (a directory listing).
#pragma once

#include "pool.h"
#include "transport.h"

#include "mkv/health.h"
#include "mkv/volume.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>

namespace mkv {

// The volume pools of a process, by volume URL: a pool for every volume a record may name,
// including volumes no longer configured (a volume being removed stays readable), made on
// first use. Thread-safe; a pool, once made, lives as long as the client.
class VolumeClient {
 public:
  explicit VolumeClient(VolumeOptions options) : options_(options) {}
  VolumeClient(const VolumeClient&) = delete;
  VolumeClient& operator=(const VolumeClient&) = delete;

  // Returns the pool of the volume at url, or invalid_volume_url if url is not one.
  Result<VolumePool*> pool(std::string_view url);

  // Returns whether every volume with a pool is up (lock-free: what a request asks first).
  bool all_up() const { return unhealthy_.load(std::memory_order_relaxed) == 0; }
  // Returns the state of each volume of urls, in order (up for a URL that is not a volume).
  std::vector<VolumeState> states(std::span<const std::string> urls);

  const VolumeOptions& options() const { return options_; }

  // Calls visit(url, pool) for every pool made so far, in URL order (under a shared lock:
  // visit must not make pools).
  template <class Visit>
  void each_pool(Visit visit) {
    std::shared_lock lock(mutex_);
    for (const auto& [url, pool] : pools_) visit(std::string_view(url), *pool);
  }

 private:
  VolumeOptions options_;
  std::atomic<std::size_t> unhealthy_{0};  // pools whose volume is not up
  std::shared_mutex mutex_;
  std::map<std::string, std::unique_ptr<VolumePool>, std::less<>> pools_;
};

// A whole answer to a GET: the status, the body, the Date field ("" without one): the
// volume's clock when it answered, and the Last-Modified field ("" without one).
struct Fetched {
  unsigned status = 0;
  std::string body;
  std::string date;
  std::string last_modified;
};

// DELETE target on the volume; returns the status (204, 404, ...).
net::awaitable<VolumeReply> volume_delete(VolumePool& volume, std::string target);
// MOVE from onto to on the volume (a rename, replacing to); returns the status.
net::awaitable<VolumeReply> volume_move(VolumePool& volume, std::string from, std::string to);
// GET target from the volume, its body up to limit bytes.
net::awaitable<Result<Fetched>> volume_get(VolumePool& volume, std::string target,
                                           std::uint64_t limit);

}  // namespace mkv
