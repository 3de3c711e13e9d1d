// The native HTTP API: dispatch to the operation's handler (see api.h).
#include "api.h"

#include "handlers.h"

#include <utility>

namespace mkv {

net::awaitable<Result<Reply>> handle(App& app, Route route, RequestBody& body) {
  switch (route.op) {
    case Operation::put: co_return co_await handle_put(app, std::move(route.key), body);
    case Operation::remove: co_return co_await handle_delete(app, std::move(route.key));
    case Operation::get: co_return handle_get(app, route.key);
    case Operation::head: co_return handle_head(app, route.key);
    case Operation::list: co_return handle_list(app, route.query);
    case Operation::health: co_return handle_health(app);
  }
  co_return Error::method_not_allowed(std::string(key_methods));
}

}  // namespace mkv
