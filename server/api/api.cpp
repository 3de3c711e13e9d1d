// The native HTTP API: the request's conditions, then the operation's handler (see api.h).
#include "api.h"

#include "handlers.h"

#include "mkv/conditions.h"

#include <utility>

namespace mkv {

namespace {

// Returns the conditions the request's If-* headers set, or invalid_condition.
Result<Conditions> conditions_of(const RequestBody& request) {
  return parse_conditions(request.field(http::field::if_match),
                          request.field(http::field::if_none_match),
                          request.field(http::field::if_modified_since),
                          request.field(http::field::if_unmodified_since));
}

}  // namespace

net::awaitable<Result<Reply>> handle(App& app, Route route, RequestBody& body) {
  if (route.op == Operation::list) co_return co_await handle_list(app, route.query);
  if (route.op == Operation::health) co_return co_await handle_health(app);
  auto conditions = conditions_of(body);
  if (!conditions) co_return conditions.error();
  switch (route.op) {
    case Operation::put: {
      auto options = put_options_of(body);
      if (!options) co_return options.error();
      co_return co_await handle_put(app, std::move(route.key), std::move(*conditions), body,
                                    *options);
    }
    case Operation::remove:
      co_return co_await handle_delete(app, std::move(route.key), std::move(*conditions));
    case Operation::get: co_return co_await handle_get(app, route.key, *conditions);
    case Operation::head: co_return co_await handle_head(app, route.key, *conditions);
    case Operation::list:
    case Operation::health: break;  // answered above
  }
  co_return Error::method_not_allowed(std::string(key_methods));
}

}  // namespace mkv
