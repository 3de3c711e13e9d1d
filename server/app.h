// What a running `mkv serve` shares between connections: its configuration, the index, the
// group-commit writer, the per-key write locks and the volume pools.
#pragma once

#include "index_backend.h"
#include "index_writer.h"
#include "key_locks.h"
#include "volume_client.h"

#include "mkv/volume.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mkv {

// The settings of `mkv serve`, fixed at start-up.
struct Config {
  std::string db;
  std::vector<Volume> volumes;
  std::vector<std::string> volume_urls;  // volumes[i].url, the placement identities
  std::size_t replicas = 1;
  std::string bind = "0.0.0.0";
  std::uint16_t port = 3000;
  unsigned threads = 0;                         // 0: one per core
  std::chrono::seconds client_timeout{60};      // idle keep-alive, and a stalled request
  std::size_t max_connections = 10000;
  std::size_t header_limit = 64 * 1024;         // request line and headers
  std::size_t piece_size = 512 * 1024;          // how much of a PUT body is relayed at once
  VolumeOptions volume_options;
};

// Counts requests in progress and, once closed, admits no more: shutdown waits for the
// count to fall to zero.
class RequestGate {
 public:
  // Returns true and counts the request, or false once the gate is closed.
  bool enter() {
    std::uint64_t state = state_.load();
    do {
      if (state & closed_bit) return false;
    } while (!state_.compare_exchange_weak(state, state + one));
    return true;
  }
  void leave() { state_.fetch_sub(one); }
  void close() { state_.fetch_or(closed_bit); }
  bool closed() const { return state_.load() & closed_bit; }
  std::uint64_t active() const { return state_.load() >> 1; }

 private:
  static constexpr std::uint64_t closed_bit = 1;
  static constexpr std::uint64_t one = 2;
  std::atomic<std::uint64_t> state_{0};
};

// The shared parts of a server, owned by run_server() and outliving every connection.
struct App {
  const Config& config;
  IndexBackend& index;
  IndexWriter& writer;
  KeyLocks& locks;
  VolumeClient& volumes;
  RequestGate& gate;
  std::atomic<std::size_t>& connections;
};

}  // namespace mkv
