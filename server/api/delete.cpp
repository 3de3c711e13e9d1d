// DELETE /{key}: the record goes first, then the copies, best effort: a client never sees a
// key whose copies are half deleted.
#include "handlers.h"

#include "copies.h"
#include "index/reads.h"

#include <optional>
#include <utility>

namespace mkv {

net::awaitable<Result<Reply>> handle_delete(App& app, std::string key, Conditions conditions) {
  KeyGuard guard = co_await app.locks.acquire(key);
  auto record = co_await read_record(app.index, key);
  if (!record) co_return record.error();
  if (!*record) co_return Error::not_found();
  // Under the key's lock: If-Match is a compare-and-delete.
  if (evaluate(conditions, *record, false) != Verdict::proceed) {
    co_return Error::precondition_failed();
  }
  const Write removal{key, std::nullopt, Expected::current(*record)};
  auto removed = co_await app.writer.apply(removal);
  if (!removed) co_return removed.error();
  if (*removed != Applied::written) co_return Error::precondition_failed();
  co_await remove_copies(app, key, (*record)->volumes);
  co_return empty_reply(http::status::no_content);
}

}  // namespace mkv
