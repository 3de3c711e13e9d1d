// The synthetic volume (see synthetic_volume.h): GET "/prefix/" answers the listing, GET
// "/tTTTT/.mkv-bucket" the marker, anything else 404.
#include "synthetic_volume.h"

#include "mkv/conditions.h"

#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <ctime>
#include <string>
#include <utility>

namespace mkv::synth {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto as_values = net::experimental::as_tuple(net::use_awaitable);

// Returns the answer to a GET of target on volume self.
http::response<http::string_body> answer(const TreeSpec& spec, std::size_t self,
                                         std::string_view target, unsigned version) {
  http::response<http::string_body> res{http::status::not_found, version};
  res.set(http::field::date, format_http_date(std::time(nullptr)));
  if (!target.starts_with('/')) return res;
  target.remove_prefix(1);
  if (!spec.broken.empty() && target == spec.broken) {
    res.result(http::status::internal_server_error);
  } else if (target.empty() || target.ends_with('/')) {
    if (auto body = listing(spec, self, target)) {
      res.result(http::status::ok);
      res.set(http::field::content_type, "application/json");
      res.body() = std::move(*body);
    }
  } else if (auto marker = marker_on(spec, self, target)) {
    res.result(http::status::ok);
    res.set(http::field::last_modified, format_http_date(marker->mtime));
  }
  res.prepare_payload();
  return res;
}

net::awaitable<void> serve_connection(net::ip::tcp::socket socket,
                                      std::shared_ptr<const TreeSpec> spec, std::size_t self) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::empty_body> req;
    auto [read_ec, n] = co_await http::async_read(socket, buffer, req, as_values);
    if (read_ec) co_return;
    auto res = answer(*spec, self, req.target(), req.version());
    res.keep_alive(req.keep_alive());
    auto [write_ec, m] = co_await http::async_write(socket, res, as_values);
    if (write_ec || !req.keep_alive()) co_return;
  }
}

net::awaitable<void> accept_loop(net::ip::tcp::acceptor& acceptor,
                                 std::shared_ptr<const TreeSpec> spec, std::size_t self) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(as_values);
    if (ec) co_return;
    socket.set_option(net::ip::tcp::no_delay(true));
    net::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), spec, self),
                  net::detached);
  }
}

}  // namespace

void serve_volume(net::ip::tcp::acceptor& acceptor, std::shared_ptr<const TreeSpec> spec,
                  std::size_t self) {
  net::co_spawn(acceptor.get_executor(), accept_loop(acceptor, std::move(spec), self),
                net::detached);
}

}  // namespace mkv::synth
