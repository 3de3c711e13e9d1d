// What a running `mkv serve` shares between connections: the server's settings, the topology in
// force, the index, the group-commit writer, the per-key write locks, the volume pools and the
// gate that counts requests in progress, and the metrics.
#pragma once

#include "admin/metrics.h"
#include "current_topology.h"
#include "http/request_gate.h"
#include "index/backend.h"
#include "index/key_locks.h"
#include "index/writer.h"
#include "volume/client.h"
#include "volume/pool.h"

#include "mkv/s3_credentials.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace mkv {

// The S3 listener's settings: off while port is 0.
struct S3Settings {
  std::uint16_t port = 0;
  std::string bind;                  // empty: the same address as the native API
  S3Credentials credentials;         // access key -> secret
  std::string region = "us-east-1";  // what GetBucketLocation answers
  std::chrono::seconds upload_expiry{86400};  // an unfinished multipart upload's lifetime
};

// The settings of the `mkv serve` process (the cluster's are the Topology): fixed at start-up.
struct ServerSettings {
  std::string bind = "0.0.0.0";
  std::uint16_t port = 3000;
  unsigned threads = 0;                         // 0: one per core
  std::chrono::seconds client_timeout{60};      // idle keep-alive, and a stalled request
  std::size_t max_connections = 10000;
  std::size_t header_limit = 64 * 1024;         // request line and headers
  std::size_t piece_size = 512 * 1024;          // how much of a PUT body is relayed at once
  std::chrono::milliseconds health_interval{1000};  // volume probes; 0: none
  bool write_fallback = false;  // a PUT whose placement has a volume down writes to the next up
  bool auto_repair = true;       // move the keys marked for repair back onto their placement
  std::chrono::milliseconds repair_interval{10000};  // between self-healing passes
  std::string admin_bind = "127.0.0.1";  // the admin listener (metrics, online jobs)
  std::uint16_t admin_port = 0;          // 0: an ephemeral port
  VolumeOptions volume_options;
  S3Settings s3;
};

// The shared parts of a server, owned by run_server() and outliving every connection. hashers
// computes the MD5 of large PUT bodies beside the IO threads, so the hashing of a piece
// overlaps its relay instead of adding to it (and runs the few long index reads an admin request
// asks for, such as a rebalance's dry run).
struct App {
  const ServerSettings& settings;
  CurrentTopology& topology;
  IndexBackend& index;
  IndexWriter& writer;
  KeyLocks& locks;
  VolumeClient& volumes;
  RequestGate& gate;
  std::atomic<std::size_t>& connections;
  net::thread_pool& hashers;
  Metrics& metrics;
};

}  // namespace mkv
