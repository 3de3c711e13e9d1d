// Routing: which operation a request's method and target ask for.
#pragma once

#include "mkv/error.h"
#include "mkv/key.h"
#include "mkv/list_query.h"

#include <string>
#include <string_view>
#include <utility>

namespace mkv {

enum class Operation { list, get, head, put, remove, health };

// A routed request: the operation and, for key operations, the decoded key; for list, the
// parsed query.
struct Route {
  Operation op = Operation::get;
  std::string key;
  ListQuery query;
};

inline constexpr std::string_view list_methods = "GET";
inline constexpr std::string_view key_methods = "GET, HEAD, PUT, DELETE";
inline constexpr std::string_view health_methods = "GET, HEAD";

// The health report's path. Keys cannot start with '.', so it never shadows a key.
inline constexpr std::string_view health_path = "/.mkv/health";

// Returns the operation of a request, or the error it must be answered with. The target "/"
// (with an optional query) is the listing; health_path (any query ignored) the health report;
// any other target names a key, and may not carry a query string (a literal '?' in a key is
// written %3F).
[[nodiscard]] inline Result<Route> route(std::string_view method, std::string_view target) {
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const bool has_query = question != std::string_view::npos;
  if (path == "/") {
    if (method != "GET") return Error::method_not_allowed(std::string(list_methods));
    auto query = parse_list_query(has_query ? target.substr(question + 1) : std::string_view{});
    if (!query) return query.error();
    return Route{Operation::list, {}, std::move(*query)};
  }
  if (path == health_path) {
    if (method != "GET" && method != "HEAD") {
      return Error::method_not_allowed(std::string(health_methods));
    }
    return Route{Operation::health, {}, {}};
  }
  Route r;
  if (method == "GET") {
    r.op = Operation::get;
  } else if (method == "HEAD") {
    r.op = Operation::head;
  } else if (method == "PUT") {
    r.op = Operation::put;
  } else if (method == "DELETE") {
    r.op = Operation::remove;
  } else {
    return Error::method_not_allowed(std::string(key_methods));
  }
  if (has_query) return Error::invalid_key("query string not allowed (write '?' as %3F)");
  auto key = decode_key(path);
  if (!key) return key.error();
  r.key = std::move(*key);
  return r;
}

}  // namespace mkv
