// `mkv serve` (see serve.h).
#include "serve.h"

#include "admin/admin_address.h"
#include "admin/admin_listener.h"
#include "api/overwrite.h"
#include "health/auto_repair.h"
#include "health/watch.h"
#include "http/connection.h"
#include "http/gate_wait.h"
#include "http/listener.h"
#include "index/shared.h"
#include "jobs/rebalance_job.h"
#include "log.h"
#include "s3/connection.h"
#include "s3/service.h"
#include "s3/uploads.h"

#include "mkv_config.h"


#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mkv {

namespace {

using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// Waits for SIGINT or SIGTERM, stops accepting, lets the requests in progress finish (at
// most 30 s), then stops the io_contexts.
net::awaitable<void> stop_on_signal(App& app, tcp::acceptor& acceptor, tcp::acceptor& admin,
                                    tcp::acceptor& s3, IoContexts& ios) {
  net::signal_set signals(acceptor.get_executor(), SIGINT, SIGTERM);
  auto [ec, signal] = co_await signals.async_wait(as_values);
  if (ec) co_return;
  log_line("signal " + std::to_string(signal) + ": finishing " + std::to_string(app.gate.active()) +
           " requests (and jobs) in progress");
  app.gate.close();
  boost::system::error_code ignored;
  acceptor.close(ignored);
  admin.close(ignored);
  s3.close(ignored);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  net::steady_timer tick(acceptor.get_executor());
  while (app.gate.active() > 0 && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(20ms);
    co_await tick.async_wait(as_values);
  }
  if (app.gate.active() > 0) log_line("stopping with requests still in progress");
  for (auto& io : ios) io->stop();
}

// Finishes the journal of a rebalance that a crash (or kill -9) cut short: deletes the copies
// of its keys that their records do not name, so no orphan is left and every key stays
// readable. Run again, the rebalance moves what was not moved.
net::awaitable<void> recover_rebalance(App& app) {
  auto left = app.index.read_journal(rebalance_journal);
  if (!left || !*left) co_return;
  // On a shared index, the journal may be another live server's rebalance in progress: only
  // the holder of the job lock finishes it.
  auto claim = co_await claim_online_job(app.index);
  if (!claim || !*claim) co_return;
  RebalanceJob job(app.index, app.writer, app.locks, app.volumes, *app.topology.load(), {});
  auto finished = co_await job.step();
  for (const auto& note : job.take_notes()) log_line(note);
  if (!finished) {
    log_line("rebalance journal not finished: " + message(finished.error()) +
             "; the next rebalance finishes it");
  } else {
    log_line("rebalance: journal finished; run rebalance again to move the keys it had not "
             "reached");
  }
}

// Returns a placement record (mkv/topology.h placement_text) on one line.
std::string describe_placement(std::string_view text) {
  std::string out;
  for (const char c : text) out += c == '\n' ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// How long start-up waits for the volumes' capability checks before it serves anyway (a
// volume that hangs must not keep the server from serving reads).
constexpr auto check_wait = 2s;

// Keeps the key leases this server holds alive (a third of their lifetime apart) until it
// stops; a failure is retried at the next turn, well before they expire.
net::awaitable<void> keep_leases(App& app, std::chrono::milliseconds lease_time) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (!app.gate.closed()) {
    co_await wait_unless_closed(app.gate, timer, lease_time / 3);
    if (app.gate.closed()) break;
    if (auto renewed = co_await renew_leases(app.index); !renewed) {
      log_line("cannot renew key leases: " + renewed.error().detail);
    }
  }
}

// Finishes the overwrites a crash cut short, checks the volumes, starts probing them, then
// accepts connections and admin connections (the listening sockets queue them meanwhile).
net::awaitable<void> start_serving(App& app, tcp::acceptor& acceptor, tcp::acceptor& admin,
                                   tcp::acceptor& s3_acceptor, S3Service* s3, IoContexts& ios) {
  co_await recover_overwrites(app);
  co_await recover_rebalance(app);
  co_await check_volumes(app.volumes, app.topology, check_wait);
  net::co_spawn(acceptor.get_executor(),
                probe_volumes(app.volumes, app.topology, app.settings.health_interval),
                net::detached);
  net::co_spawn(admin.get_executor(), accept_admin(app, admin), net::detached);
  net::co_spawn(acceptor.get_executor(), repair_marked_keys(app), net::detached);
  if (const auto lifetime = lease_time<IndexBackend>(); lifetime.count() > 0) {
    net::co_spawn(acceptor.get_executor(), keep_leases(app, lifetime), net::detached);
  }
  if (s3) {
    net::co_spawn(acceptor.get_executor(), expire_uploads(app), net::detached);
    net::co_spawn(s3_acceptor.get_executor(),
                  accept_connections(app, s3_acceptor, ios,
                                     [&app, s3](beast::tcp_stream stream) {
                                       return serve_s3_connection(app, *s3, std::move(stream));
                                     }),
                  net::detached);
  }
  co_await accept_connections(app, acceptor, ios, [&app](beast::tcp_stream stream) {
    return serve_connection(app, std::move(stream));
  });
}

// Checks this server's claim on a shared index every second, on a thread of its own (each check
// is a round trip to the database), until it is stopped. A claim lost with its database
// session (the database restarted or failed over) is taken again at once, before an offline
// job (rebuild, verify...) could claim the index; if one did meanwhile, this server stops, as
// it must not write beside it. Nothing to do for an index in files.
template <class Owner>
std::jthread keep_claim_thread(Owner& owner) {
  if constexpr (index_in_files) return {};
  return std::jthread([&owner](std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    bool reached = true;
    for (;;) {
      std::unique_lock lock(mutex);
      if (wake.wait_for(lock, stop, 1s, [] { return false; }) || stop.stop_requested()) return;
      lock.unlock();
      if (const auto lost = keep_claim<IndexBackend>(owner, reached); !lost.empty()) {
        log_line(
            "stopping: this server lost its claim on the index with its database session, "
            "and cannot take it again: " +
            lost);
        std::raise(SIGTERM);  // stop_on_signal stops the server as for any SIGTERM
        return;
      }
    }
  });
}

// Opens a listening socket on bind:port; returns false after logging why it cannot.
bool listen_on(tcp::acceptor& acceptor, const std::string& bind, std::uint16_t port,
               std::string_view what) {
  try {
    const tcp::endpoint endpoint(net::ip::make_address(bind), port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(net::socket_base::max_listen_connections);
    return true;
  } catch (const std::exception& e) {
    log_line("cannot listen " + std::string(what) + "on " + bind + ":" + std::to_string(port) +
             ": " + e.what());
    return false;
  }
}

}  // namespace

int run_server(const std::string& location, Topology topology, const ServerSettings& settings) {
  auto owner = IndexBackend::claim(location, "serve");
  if (!owner) {
    log_line(message(owner.error()));
    return 1;
  }
  auto index = IndexBackend::open(location);
  if (!index) {
    log_line("cannot open index " + index_name(location) + ": " + message(index.error()));
    return 1;
  }
  IndexWriter writer(*index);
  // Other servers may share an index kept in a database: key locks then take leases in it.
  KeyLocks locks(index_in_files ? nullptr : &*index);
  RequestGate gate;
  std::atomic<std::size_t> connections{0};
  const unsigned threads =
      settings.threads ? settings.threads : std::max(1u, std::thread::hardware_concurrency());

  // The hashing threads, made before the io_contexts so that they outlive them: a request cut
  // off at shutdown is destroyed with its io_context, and may hold a strand of the pool.
  net::thread_pool hashers(threads);
  // One io_context per thread: a connection stays on the io_context that accepted it, so its
  // handlers never cross threads (no strand, no handing work between threads); only the index
  // writer and the key locks post to it from elsewhere. Each is kept running while idle.
  IoContexts ios;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  for (unsigned i = 0; i < threads; ++i) {
    ios.push_back(std::make_unique<net::io_context>(1));
    keep_running.push_back(net::make_work_guard(*ios.back()));
  }
  net::io_context& io = *ios.front();
  VolumeClient volumes(settings.volume_options);
  const std::size_t volume_count = topology.volumes.size();
  const std::size_t replicas = topology.replicas;
  CurrentTopology current(std::move(topology));
  Metrics metrics;
  App app{settings, current, *index, writer, locks, volumes, gate, connections, hashers, metrics};

  tcp::acceptor acceptor(io);
  if (!listen_on(acceptor, settings.bind, settings.port, "")) return 1;
  if constexpr (!index_in_files) {
    // No other live process can listen on this host and address, so it names this server
    // across restarts: a server restarted after a crash takes back the keys its last process
    // left leased at once, instead of after the lease time.
    const auto at = acceptor.local_endpoint();
    const std::string name =
        net::ip::host_name() + " " + at.address().to_string() + ":" + std::to_string(at.port());
    if (auto taken = take_identity(*index, *owner, name); !taken) {
      log_line("cannot take this server's name in the index: " + message(taken.error()));
      return 1;
    } else if (!*taken) {
      log_line("warning: another process sharing the index is named \"" + name +
               "\"; keys this server's last process left leased are free after the lease time");
    }
  }
  const std::jthread claim_keeper = keep_claim_thread(*owner);
  tcp::acceptor admin(io);
  if (!listen_on(admin, settings.admin_bind, settings.admin_port, "(admin) ")) return 1;
  const std::string admin_address = admin.local_endpoint().address().to_string() + ':' +
                                    std::to_string(admin.local_endpoint().port());
  record_admin_address(*index, location, admin_address);
  // The S3 API on its own listener, when asked for (serve_command checked its credentials).
  tcp::acceptor s3_acceptor(io);
  std::optional<S3Service> s3;
  if (settings.s3.port != 0) {
    const std::string& bind = settings.s3.bind.empty() ? settings.bind : settings.s3.bind;
    if (!listen_on(s3_acceptor, bind, settings.s3.port, "(S3) ")) return 1;
    s3.emplace(settings.s3);
    log_line("S3 API on " + bind + ":" + std::to_string(settings.s3.port) + " for " +
             std::to_string(settings.s3.credentials.size()) + " access keys");
  }
  if (auto placed = index->read_journal(placement_record); placed && *placed &&
      **placed != placement_text(*current.load())) {
    log_line("warning: the last rebalance placed the keys on other volumes or with another -r (" +
             describe_placement(**placed) + "); new writes go by this -v/-r, existing keys stay "
             "where they are until `mkv rebalance` with this -v/-r moves them");
  }
  if (volume_count < replicas) {
    log_line("warning: " + message(Error::not_enough_volumes(replicas, volume_count)) +
             "; PUTs will fail until more volumes are configured");
  }
  log_line("serving " + index_name(location) + " (" MKV_INDEX_NAME ") on " + settings.bind + ":" +
           std::to_string(settings.port) + " with " + std::to_string(volume_count) +
           " volumes, r=" + std::to_string(replicas) + ", " + std::to_string(threads) +
           " threads; admin (metrics, online jobs) on " +
           admin.local_endpoint().address().to_string() + ":" +
           std::to_string(admin.local_endpoint().port()));

  net::co_spawn(io, start_serving(app, acceptor, admin, s3_acceptor, s3 ? &*s3 : nullptr, ios),
                net::detached);
  net::co_spawn(io, stop_on_signal(app, acceptor, admin, s3_acceptor, ios), net::detached);

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ios, i] { ios[i]->run(); });
  io.run();
  for (auto& t : pool) t.join();
  hashers.join();
  forget_admin_address(*index, location, admin_address);
  log_line("stopped");
  return 0;
}

}  // namespace mkv
