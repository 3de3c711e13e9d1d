// The reads of the native API: GET (a redirect), HEAD and listing, answered from the index and
// what mkv already knows of the volumes' health; no volume is asked. GET and HEAD carry the
// record's ETag and Last-Modified and honour conditional headers (mkv/conditions.h).
#include "handlers.h"

#include "index/reads.h"

#include "mkv/conditions.h"
#include "mkv/health.h"
#include "mkv/volume.h"

#include <optional>
#include <utility>

namespace mkv {

namespace {

// Returns the record of key for a read, or not_found / corrupt_record.
net::awaitable<Result<Record>> record_for_read(App& app, const std::string& key) {
  auto record = co_await read_record(app.index, key);
  if (!record) co_return record.error();
  if (!*record) co_return Error::not_found();
  if ((*record)->volumes.empty()) co_return Error::corrupt_record(key);
  co_return std::move(**record);
}

// Sets the validators of a record on reply: its ETag (when its checksum is known) and
// Last-Modified (when its write time is).
void set_validators(Reply& reply, const Record& record) {
  if (const auto etag = etag_of(record)) reply.set(http::field::etag, *etag);
  if (record.modified > 0) {
    reply.set(http::field::last_modified, format_http_date(record.modified));
  }
}

// Returns the reply the conditions ask for instead of the read's own (304 with the validators,
// or 412), or nullopt to answer as usual.
std::optional<Result<Reply>> answer_conditions(const Conditions& conditions,
                                               const Record& record) {
  if (conditions.empty()) return std::nullopt;
  switch (evaluate(conditions, record, true)) {
    case Verdict::proceed: return std::nullopt;
    case Verdict::not_modified: {
      Reply reply = empty_reply(http::status::not_modified);
      set_validators(reply, record);
      return Result<Reply>(std::move(reply));
    }
    case Verdict::precondition_failed: return Result<Reply>(Error::precondition_failed());
  }
  return std::nullopt;
}

}  // namespace

net::awaitable<Result<Reply>> handle_get(App& app, const std::string& key,
                                         const Conditions& conditions) {
  auto record = co_await record_for_read(app, key);
  if (!record) co_return record.error();
  if (auto answered = answer_conditions(conditions, *record)) co_return std::move(*answered);
  // While every volume is up (the common case) this costs one atomic load.
  const std::size_t chosen =
      app.volumes.all_up() ? 0 : pick_readable(app.volumes.states(record->volumes));
  Reply reply = empty_reply(http::status::found);
  const LinkSigning& signing = app.volumes.options().signing;
  if (signing.secret.empty()) {
    reply.set(http::field::location, volume_location(record->volumes[chosen], key));
  } else {  // a URL the volume serves for --redirect-ttl seconds, for reading only
    reply.set(http::field::location,
              signing.sign("GET", volume_location(record->volumes[chosen], key)));
  }
  set_validators(reply, *record);
  co_return reply;
}

net::awaitable<Result<Reply>> handle_head(App& app, const std::string& key,
                                          const Conditions& conditions) {
  auto record = co_await record_for_read(app, key);
  if (!record) co_return record.error();
  if (auto answered = answer_conditions(conditions, *record)) co_return std::move(*answered);
  Reply reply = empty_reply(http::status::ok);
  reply.content_length(record->size);
  set_validators(reply, *record);
  co_return reply;
}

net::awaitable<Result<Reply>> handle_list(App& app, const ListQuery& query) {
  auto rows = co_await read_keys(app.index, query.prefix, list_begin(query), query.limit + 1);
  if (!rows) co_return rows.error();
  Reply reply = empty_reply(http::status::ok);
  reply.set(http::field::content_type, "application/json");
  reply.body() = encode_list_page(make_list_page(std::move(*rows), query.limit));
  co_return reply;
}

}  // namespace mkv
