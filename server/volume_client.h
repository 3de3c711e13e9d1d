// The HTTP client for nginx volumes: keep-alive connection pools, streamed PUTs and GETs,
// DELETE, MOVE and GET, each with connect and IO timeouts. IO only; no decisions.
#pragma once

#include "mkv/error.h"
#include "mkv/rollback.h"
#include "mkv/volume.h"

#include <boost/asio.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

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

// A volume's answer: the HTTP status, or the transport failure as Error::volume_write_failed.
using VolumeReply = Result<unsigned>;

class VolumeConnections;

// A request whose head and body are both in memory, to be sent through a Pipeline. The caller
// keeps it (and what body points to) alive until the exchange completes.
struct WholeRequest {
  std::string head;        // request line and fields, ending with the blank line
  net::const_buffer body;  // exactly the Content-Length the head declares
  bool sent = false;       // set once any of it may have reached the volume
};

// Whole requests to one volume from one io_context, pipelined (HTTP/1.1) on one keep-alive
// connection: what is queued goes out in one write, and the answers are read back in order.
// Under load a batch of N requests costs mkv one send and a few receives instead of N of each
// (on loopback each message also pays for waking its receiver), and wakes nginx once per
// batch instead of N times. Only for idempotent requests (DELETE, the PUT of a whole body):
// one whose answer did not come back is sent once more, on a new connection, when the volume
// closed the connection cleanly first or when the connection had answered before (a
// keep-alive connection the volume dropped); otherwise it fails, and so does everything queued
// behind it when the connection never answered at all (the volume is down or hung). Requests
// queue while a batch is in flight; a driver coroutine runs while there is anything to send.
// Touched only from its io_context's thread, so it needs no lock.
class Pipeline {
 public:
  Pipeline(VolumeConnections& volume, net::any_io_executor executor)
      : volume_(volume), executor_(std::move(executor)) {}
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Sends request and completes with the volume's status. request must stay alive until then.
  // (Only a pointer crosses into Asio: GCC 12 miscompiles class-type arguments of
  // use_awaitable's initiation.)
  net::awaitable<VolumeReply> exchange(WholeRequest& request);

 private:
  using Handler = net::any_completion_handler<void(VolumeReply)>;
  struct Waiting {
    WholeRequest* request;
    Handler handler;
    bool resent = false;
  };

  net::awaitable<void> drive();
  void finish(Waiting waiting, VolumeReply reply);

  VolumeConnections& volume_;
  net::any_io_executor executor_;  // of the io_context this pipeline belongs to
  std::deque<Waiting> queued_;
  bool driving_ = false;  // a drive() is running
};

// The keep-alive connections to one volume. A connection belongs to the io_context of the
// coroutine that opened it and is only handed to coroutines of that io_context, so its IO never
// crosses threads. Thread-safe: a mutex guards only the idle list and the list of pipelines,
// never an IO.
class VolumeConnections {
 public:
  VolumeConnections(Volume volume, VolumeOptions options);

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

// One PUT of a body to one volume, sent in pieces as the body arrives. Destroying an
// unfinished upload closes its connection, so the volume discards the partial body.
class Upload {
 public:
  // length: the body size if known (sent as Content-Length), else the body is sent chunked.
  Upload(VolumeConnections& volume, std::string target, std::optional<std::uint64_t> length);
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  // Sends the next piece of the body; `last` ends it and reads the volume's answer. Does
  // nothing once the upload has failed.
  net::awaitable<void> send(net::const_buffer piece, bool last);

  // Returns whether the volume answered the finished upload with 201 or 204.
  bool stored() const { return reply_ && reply_->has_value() && (**reply_ == 201 || **reply_ == 204); }
  // Returns what became of the upload: stored, surely not stored, or unknown (the whole body
  // was sent but no answer came).
  WriteOutcome outcome() const {
    if (stored()) return WriteOutcome::stored;
    return body_sent_ && reply_ && !reply_->has_value() ? WriteOutcome::unknown
                                                        : WriteOutcome::refused;
  }
  // Returns the volume's answer, or why there is none (empty before the last piece).
  const std::optional<VolumeReply>& reply() const { return reply_; }
  const Volume& volume() const { return volume_.volume(); }
  const std::string& target() const { return target_; }

 private:
  std::string head() const;  // the request head, with a known length
  net::awaitable<Result<void>> start();
  net::awaitable<void> send_pipelined(net::const_buffer body);
  net::awaitable<Result<void>> write_piece(net::const_buffer piece, bool last);
  net::awaitable<VolumeReply> finish();

  VolumeConnections& volume_;
  std::string target_;
  std::optional<std::uint64_t> length_;
  std::optional<Connection> connection_;
  std::string head_;  // with a length: the request head, until the first piece takes it along
  http::request<http::buffer_body> request_;  // without a length: the chunked request
  std::optional<http::request_serializer<http::buffer_body>> serializer_;
  std::optional<VolumeReply> reply_;
  bool started_ = false;
  bool body_sent_ = false;  // the last piece went out
};

// One GET of a blob from one volume, its body read in pieces as it arrives. Destroying an
// unfinished download closes its connection.
class Download {
 public:
  Download(VolumeConnections& volume, std::string target);
  Download(const Download&) = delete;
  Download& operator=(const Download&) = delete;

  // Sends the request and reads the response header; returns the status. A reused keep-alive
  // connection found closed is replaced once.
  net::awaitable<VolumeReply> start();
  // Returns the body length the volume declared, or nullopt for a chunked body.
  std::optional<std::uint64_t> length() const;
  // Fills out with the next bytes of the body; returns fewer only at its end (then done()).
  // Call only after start() returned a status.
  net::awaitable<Result<std::size_t>> read(std::span<char> out);
  // Returns whether the whole body has been read.
  bool done() const { return parser_ && parser_->is_done(); }
  const Volume& volume() const { return volume_.volume(); }

 private:
  VolumeConnections& volume_;
  std::string target_;
  std::optional<Connection> connection_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
};

// The volume pools of a process, by volume URL.
class VolumeClient {
 public:
  // (executor is not used: connections open on the executor of the coroutine that needs one.)
  VolumeClient(net::any_io_executor executor, const std::vector<Volume>& volumes,
               VolumeOptions options);

  // Returns the pool of a volume URL; URLs not configured (a record may name a volume that
  // was removed) get a pool on first use, or nullptr if the URL does not parse.
  VolumeConnections* find(std::string_view url);

  // DELETE target; returns the status (204, 404, ...).
  net::awaitable<VolumeReply> remove(std::string_view url, std::string target);
  // MOVE from onto to (a rename on the volume, replacing to); returns the status.
  net::awaitable<VolumeReply> move(std::string_view url, std::string from, std::string to);
  // GET target, body up to limit bytes; returns the status and body.
  net::awaitable<Result<std::pair<unsigned, std::string>>> get(std::string_view url,
                                                                std::string target,
                                                                std::uint64_t limit);

  const VolumeOptions& options() const { return options_; }

 private:
  net::awaitable<Result<http::response<http::string_body>>> exchange(
      VolumeConnections& volume, http::request<http::empty_body> request, std::uint64_t limit);

  VolumeOptions options_;
  std::map<std::string, std::unique_ptr<VolumeConnections>, std::less<>> configured_;
  std::mutex others_mutex_;
  std::map<std::string, std::unique_ptr<VolumeConnections>, std::less<>> others_;
};

}  // namespace mkv
