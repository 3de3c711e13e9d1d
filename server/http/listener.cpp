// The listening socket of `mkv serve` (see listener.h).
#include "listener.h"

#include "log.h"


#include <exception>
#include <string>

namespace mkv {

namespace {

using tcp = net::ip::tcp;
using namespace std::chrono_literals;

}  // namespace

net::awaitable<void> accept_connections(App& app, tcp::acceptor& acceptor, IoContexts& ios,
                                        ConnectionServer serve) {
  for (std::size_t next = 0;; next = (next + 1) % ios.size()) {
    auto [ec, socket] = co_await acceptor.async_accept(ios[next]->get_executor(), as_values);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors and the like: wait a little rather than spin.
      log_line("accept: " + ec.message());
      net::steady_timer pause(acceptor.get_executor(), 100ms);
      co_await pause.async_wait(as_values);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (app.connections.fetch_add(1) >= app.settings.max_connections) {
      app.connections.fetch_sub(1);
      socket.close(ignored);
      continue;
    }
    auto executor = socket.get_executor();
    net::co_spawn(executor, serve(beast::tcp_stream(std::move(socket))),
                  [&app](std::exception_ptr failure) {
                    app.connections.fetch_sub(1);
                    if (failure) {
                      try {
                        std::rethrow_exception(failure);
                      } catch (const std::exception& e) {
                        log_line(std::string("connection failed: ") + e.what());
                      }
                    }
                  });
  }
}

}  // namespace mkv
