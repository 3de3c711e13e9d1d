// The server's parts run inside the test process: an io_context on a thread of its own, and a
// whole App (a real index in a temporary directory, real nginx volumes where a test needs them)
// whose listener accepts on a free loopback port. Requests come from the harness's blocking
// client on the test's thread.
#pragma once

#include "app.h"
#include "asio.h"
#include "harness.h"
#include "http/connection.h"
#include "http/listener.h"
#include "run_all.h"

#include "mkv/topology.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mkv::test {

// Runs an io_context on its own thread until destroyed; run() hands it a coroutine and waits
// for its result on the caller's thread.
class IoThread {
 public:
  IoThread() : work_(net::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;
  ~IoThread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }

  net::io_context& io() { return io_; }

  // Runs the awaitable on the io_context and returns its result (rethrowing its exception).
  template <class T>
  T run(net::awaitable<T> op) {
    std::promise<T> done;
    auto result = done.get_future();
    net::co_spawn(io_, std::move(op), [&done](std::exception_ptr e, T value) {
      if (e) {
        done.set_exception(e);
      } else {
        done.set_value(std::move(value));
      }
    });
    return result.get();
  }

 private:
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::thread thread_;
};

// Returns the topology of volume URLs with r copies.
inline Topology topology_of(const std::vector<std::string>& urls, std::size_t r) {
  std::string list;
  for (const auto& u : urls) list += (list.empty() ? "" : ",") + u;
  return make_topology(parse_volume_list(list).value(), r);
}

// Returns the index placed at path (with MKV_INDEX=postgres, the database standing for it),
// failing the test if it does not open.
inline IndexBackend open_backend(const std::filesystem::path& path) {
  auto index = IndexBackend::open(index_location(path));
  if (!index) FAIL("open failed: " << index.error().detail);
  return std::move(*index);
}

// A whole server in this process, serving on 127.0.0.1:port() with one IO thread.
class InProcessServer {
 public:
  explicit InProcessServer(Topology topology, ServerSettings settings = {})
      : work_(net::make_work_guard(*ios_.front())),
        settings_(std::move(settings)),
        topology_(std::move(topology)),
        index_(open_backend(dir_.path() / "index")),
        writer_(index_),
        volumes_(settings_.volume_options),
        app_{settings_, topology_, index_, writer_, locks_, volumes_, gate_, connections_,
             hashers_, metrics_},
        acceptor_(ios_.front()->get_executor()) {
    const net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    const auto serve = [this](beast::tcp_stream s) { return serve_connection(app_, std::move(s)); };
    net::co_spawn(*ios_.front(), accept_connections(app_, acceptor_, ios_, serve), net::detached);
    thread_ = std::thread([this] { ios_.front()->run(); });
  }
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;
  ~InProcessServer() {
    net::post(*ios_.front(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
    work_.reset();
    ios_.front()->stop();
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  App& app() { return app_; }

 private:
  static IoContexts one_context() {
    IoContexts ios;
    ios.push_back(std::make_unique<net::io_context>(1));
    return ios;
  }

  TempDir dir_;
  IoContexts ios_ = one_context();  // early: what uses it below is destroyed before it
  net::executor_work_guard<net::io_context::executor_type> work_;
  ServerSettings settings_;
  CurrentTopology topology_;
  IndexBackend index_;
  IndexWriter writer_;
  KeyLocks locks_;
  VolumeClient volumes_;
  RequestGate gate_;
  std::atomic<std::size_t> connections_{0};
  net::thread_pool hashers_{1};
  Metrics metrics_;
  App app_;
  net::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace mkv::test
