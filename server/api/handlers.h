// One handler per operation of the native API, each a sequence of steps that executes the
// core's decisions (dispatched by handle() in api.h).
#pragma once

#include "app.h"
#include "http/reply.h"
#include "http/request_body.h"

#include "mkv/checksum.h"
#include "mkv/conditions.h"
#include "mkv/error.h"
#include "mkv/list_query.h"

#include <boost/asio.hpp>

#include <optional>
#include <string>

namespace mkv {

// What a PUT checks and keeps besides its conditions.
struct PutOptions {
  // The body's MD5 the request declared (Content-MD5); on a mismatch nothing is committed
  // (bad_digest).
  std::optional<Md5> expected_md5 = std::nullopt;
  // The body's SHA-256 (hex) an S3 request was signed with; on a mismatch nothing is committed
  // (payload_hash_mismatch).
  std::optional<std::string> expected_sha256 = std::nullopt;
  // What the record keeps besides the blob (Record::meta).
  std::string meta = {};
};

// Returns the options a request's Content-MD5 asks for, or bad_digest when it cannot be
// read (refused before anything else).
Result<PutOptions> put_options_of(const RequestBody& request);

// PUT /{key}: streams the body to the key's placement volumes (its MD5 computed on the way),
// then commits the record; conditions and what options ask are checked.
// (options by reference: GCC 12 copies a class-type by-value parameter of a coroutine bytewise
// when it comes from a default argument, which breaks a short string.)
net::awaitable<Result<Reply>> handle_put(App& app, std::string key, Conditions conditions,
                                         BodySource& body, const PutOptions& options);
// DELETE /{key}: removes the record, then the copies (best effort); conditions are checked.
net::awaitable<Result<Reply>> handle_delete(App& app, std::string key, Conditions conditions);
// GET /{key}: a redirect to the first recorded volume that is not down, or 304 / 412.
net::awaitable<Result<Reply>> handle_get(App& app, const std::string& key,
                                         const Conditions& conditions);
// HEAD /{key}: the blob's size, ETag and Last-Modified, from the index, or 304 / 412.
net::awaitable<Result<Reply>> handle_head(App& app, const std::string& key,
                                          const Conditions& conditions);
// GET /?prefix=...: one page of keys.
net::awaitable<Result<Reply>> handle_list(App& app, const ListQuery& query);
// GET /.mkv/health: the state of the index and of every volume.
net::awaitable<Result<Reply>> handle_health(App& app);

}  // namespace mkv
