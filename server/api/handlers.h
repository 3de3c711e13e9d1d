// One handler per operation of the native API, each a sequence of steps that executes the
// core's decisions (dispatched by handle() in api.h).
#pragma once

#include "app.h"
#include "http/reply.h"
#include "http/request_body.h"

#include "mkv/conditions.h"
#include "mkv/error.h"
#include "mkv/list_query.h"

#include <boost/asio.hpp>

#include <optional>
#include <string>

namespace mkv {

// PUT /{key}: streams the body to the key's placement volumes (its MD5 computed on the way),
// then commits the record; conditions and Content-MD5 are checked, and, when expected_sha256
// (hex) is given (an S3 PUT signed with its payload's hash), the body's SHA-256: on a mismatch
// nothing is committed (payload_hash_mismatch).
net::awaitable<Result<Reply>> handle_put(App& app, std::string key, Conditions conditions,
                                         RequestBody& body,
                                         std::optional<std::string> expected_sha256 = {});
// DELETE /{key}: removes the record, then the copies (best effort); conditions are checked.
net::awaitable<Result<Reply>> handle_delete(App& app, std::string key, Conditions conditions);
// GET /{key}: a redirect to the first recorded volume that is not down, or 304 / 412.
Result<Reply> handle_get(App& app, const std::string& key, const Conditions& conditions);
// HEAD /{key}: the blob's size, ETag and Last-Modified, from the index, or 304 / 412.
Result<Reply> handle_head(App& app, const std::string& key, const Conditions& conditions);
// GET /?prefix=...: one page of keys.
Result<Reply> handle_list(App& app, const ListQuery& query);
// GET /.mkv/health: the state of the index and of every volume.
Result<Reply> handle_health(App& app);

}  // namespace mkv
