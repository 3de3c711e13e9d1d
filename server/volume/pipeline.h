// Small idempotent requests to one volume from one io_context, pipelined on one keep-alive
// connection.
#pragma once

#include "transport.h"

#include <boost/asio/any_completion_handler.hpp>

#include <deque>
#include <string>

namespace mkv {

class VolumePool;

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
// one whose answer did not come back is sent again or failed as after_no_answer
// (mkv/volume_answer.h) decides, and when the connection never answered at all (the volume is
// down or hung) everything queued behind it fails too. Requests queue while a batch is in
// flight; a driver coroutine runs while there is anything to send. Touched only from its
// io_context's thread, so it needs no lock.
class Pipeline {
 public:
  Pipeline(VolumePool& volume, net::any_io_executor executor)
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

  VolumePool& volume_;
  net::any_io_executor executor_;  // of the io_context this pipeline belongs to
  std::deque<Waiting> queued_;
  bool driving_ = false;  // a drive() is running
};

}  // namespace mkv
