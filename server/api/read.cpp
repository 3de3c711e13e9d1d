// The reads of the native API: GET (a redirect), HEAD and listing, answered from the index and
// what mkv already knows of the volumes' health; no volume is asked.
#include "handlers.h"

#include "mkv/health.h"
#include "mkv/volume.h"

#include <utility>

namespace mkv {

namespace {

// Returns the record of key for a read, or not_found / corrupt_record.
Result<Record> record_for_read(App& app, const std::string& key) {
  auto record = app.index.get(key);
  if (!record) return record.error();
  if (!*record) return Error::not_found();
  if ((*record)->volumes.empty()) return Error::corrupt_record(key);
  return std::move(**record);
}

}  // namespace

Result<Reply> handle_get(App& app, const std::string& key) {
  auto record = record_for_read(app, key);
  if (!record) return record.error();
  // While every volume is up (the common case) this costs one atomic load.
  const std::size_t chosen =
      app.volumes.all_up() ? 0 : pick_readable(app.volumes.states(record->volumes));
  Reply reply = empty_reply(http::status::found);
  reply.set(http::field::location, volume_location(record->volumes[chosen], key));
  return reply;
}

Result<Reply> handle_head(App& app, const std::string& key) {
  auto record = record_for_read(app, key);
  if (!record) return record.error();
  Reply reply = empty_reply(http::status::ok);
  reply.content_length(record->size);
  return reply;
}

Result<Reply> handle_list(App& app, const ListQuery& query) {
  auto rows = app.index.list(query.prefix, list_begin(query), query.limit + 1);
  if (!rows) return rows.error();
  Reply reply = empty_reply(http::status::ok);
  reply.set(http::field::content_type, "application/json");
  reply.body() = encode_list_page(make_list_page(std::move(*rows), query.limit));
  return reply;
}

}  // namespace mkv
