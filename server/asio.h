// The Asio and Beast names every part of the server uses, and the completion token that makes
// an awaited operation return its error code as a value instead of throwing.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mkv {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// Completion token: `auto [ec, n] = co_await op(..., as_values);` never throws.
inline constexpr auto as_values = net::experimental::as_tuple(net::use_awaitable);

}  // namespace mkv
