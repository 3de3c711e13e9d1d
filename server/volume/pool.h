// The keep-alive connections to one volume, kept apart per io_context, and the pipeline each
// io_context sends small requests to the volume through.
#pragma once

#include "transport.h"

#include "mkv/volume.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace mkv {

struct VolumeOptions {
  std::chrono::milliseconds connect_timeout{3000};  // TCP connect
  std::chrono::milliseconds io_timeout{30000};      // any one read or write making no progress
  std::chrono::seconds idle_limit{20};  // idle connections older than this are not reused
                                        // (below nginx's keepalive_timeout of 75 s)
  std::size_t max_idle = 256;           // idle connections kept per volume
  std::size_t pipelined_body_limit = 64 * 1024;  // whole PUT bodies up to this size are
                                                 // pipelined (see Pipeline)
};

// An open connection to a volume, and whether it served a request before. The stream is held
// by pointer because moving a beast::tcp_stream allocates (pending operations share its state).
struct Connection {
  std::unique_ptr<beast::tcp_stream> stream;
  bool reused = false;
};

class Pipeline;
struct WholeRequest;

// The keep-alive connections to one volume. A connection belongs to the io_context of the
// coroutine that opened it and is only handed to coroutines of that io_context, so its IO never
// crosses threads. Thread-safe: a mutex guards only the idle lists and the list of pipelines,
// never an IO.
class VolumePool {
 public:
  VolumePool(Volume volume, VolumeOptions options);
  ~VolumePool();
  VolumePool(const VolumePool&) = delete;
  VolumePool& operator=(const VolumePool&) = delete;

  const Volume& volume() const { return volume_; }
  const VolumeOptions& options() const { return options_; }

  // Returns an idle connection of the calling coroutine's io_context young enough to reuse, or
  // a newly connected one on the calling coroutine's executor.
  net::awaitable<Result<Connection>> acquire();

  // Takes back a connection whose last exchange ended cleanly and may be kept alive.
  void release(Connection connection);

  // Sends a whole request through the calling coroutine's io_context's Pipeline to this
  // volume; completes with the volume's status. Idempotent requests only.
  net::awaitable<VolumeReply> pipelined(WholeRequest& request);

 private:
  struct Idle {
    std::unique_ptr<beast::tcp_stream> stream;
    std::chrono::steady_clock::time_point since;
  };

  Volume volume_;
  VolumeOptions options_;
  std::mutex mutex_;
  // The idle connections of each io_context, oldest first.
  std::vector<std::pair<const net::execution_context*, std::vector<Idle>>> idle_;
  std::size_t idle_count_ = 0;
  // The pipeline of each io_context.
  std::vector<std::pair<const net::execution_context*, std::unique_ptr<Pipeline>>> pipelines_;
};

}  // namespace mkv
