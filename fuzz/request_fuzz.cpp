// libFuzzer target: the HTTP request path of `mkv serve` up to the handlers — Beast's request
// parser with the server's header limit, then route() on the parsed method and target. Any
// bytes: the parser refuses them, or route() refuses the request, or it names an operation
// whose key passes key_problem() and maps to a volume path inside the root.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>

#include "mkv/route.h"
#include "mkv/volume.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace http = boost::beast::http;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  // Fed in two parts, as a network might split it.
  const std::size_t split = size / 2;
  used = parser.put(boost::asio::buffer(data, split), ec);
  if (ec == http::error::need_more) ec = {};
  if (!ec && !parser.is_done()) {  // (put() on a finished message is a precondition failure)
    used += parser.put(boost::asio::buffer(data + used, size - used), ec);
  }
  if (!parser.is_header_done()) return 0;

  const auto& request = parser.get();
  const auto routed = mkv::route(request.method_string(), request.target());
  if (!routed) {
    const unsigned status = mkv::http_status(routed.error().code);
    require(status == 400 || status == 405);
    return 0;
  }
  switch (routed->op) {
    case mkv::Operation::list:
      require(request.method_string() == "GET");
      require(routed->query.limit >= 1 && routed->query.limit <= mkv::max_list_limit);
      break;
    case mkv::Operation::get:
    case mkv::Operation::head:
    case mkv::Operation::put:
    case mkv::Operation::remove: {
      require(!mkv::key_problem(routed->key));
      const std::string target = mkv::volume_target(mkv::Volume{"http://v", "v", "80", ""}, routed->key);
      require(target.find("/../") == std::string::npos && target.find("/./") == std::string::npos);
      require(target.find_first_of(std::string_view("\0\r\n ?#", 6)) == std::string::npos);
      break;
    }
    case mkv::Operation::health:
      require(request.method_string() == "GET" || request.method_string() == "HEAD");
      break;
  }
  return 0;
}
