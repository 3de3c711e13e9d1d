// The request handlers of `mkv serve` (see handlers.h).
#include "handlers.h"

#include "log.h"
#include "parallel.h"

#include "mkv/key.h"
#include "mkv/list_query.h"
#include "mkv/placement.h"
#include "mkv/rollback.h"
#include "mkv/volume.h"

#include <boost/asio/experimental/as_tuple.hpp>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace mkv {

namespace {

constexpr auto as_values = net::experimental::as_tuple(net::use_awaitable);

Reply empty_reply(http::status status) {
  Reply reply{status, 11};
  return reply;
}

// Returns a fresh name for a staging file: 128 random bits in hex.
std::string staging_token() {
  std::random_device random;
  std::string token;
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    const auto word = random();
    for (int shift = 0; shift < 32; shift += 4) token.push_back(digits[(word >> shift) & 0xF]);
  }
  return token;
}

// Where one PUT writes on one placement volume.
struct Destination {
  VolumeConnections* volume;
  std::string target;  // the key's path, or a staging path for an overwrite
};

// Returns the destinations of a PUT, or an error if a placement volume has no pool.
Result<std::vector<Destination>> destinations(App& app, std::string_view key,
                                              const std::vector<std::string>& placement,
                                              const std::string& token) {
  std::vector<Destination> out;
  for (const auto& url : placement) {
    auto* volume = app.volumes.find(url);
    if (!volume) return Error::volume_write_failed("no pool for " + url);
    out.push_back({volume, token.empty() ? volume_target(volume->volume(), key)
                                         : staging_target(volume->volume(), token)});
  }
  return out;
}

// Deletes target on the volume at url, logging (not returning) a failure.
net::awaitable<void> remove_logged(App& app, std::string url, std::string target) {
  auto reply = co_await app.volumes.remove(url, target);
  if (!reply) {
    log_line("delete " + target + " on " + url + " failed: " + reply.error().detail);
  } else if (*reply != 204 && *reply != 200 && *reply != 404) {
    log_line("delete " + target + " on " + url + " answered " + std::to_string(*reply));
  }
}

// Deletes key from each of the volumes at urls, concurrently and best effort.
net::awaitable<void> remove_copies(App& app, std::string key, std::vector<std::string> urls) {
  co_await run_all(urls.size(), [&](std::size_t i) -> net::awaitable<void> {
    auto* volume = app.volumes.find(urls[i]);
    std::string target = volume ? volume_target(volume->volume(), key) : "/" + encode_key(key);
    return remove_logged(app, urls[i], std::move(target));
  });
}

// Deletes what the PUT wrote at the chosen destinations, concurrently and best effort.
net::awaitable<void> remove_written(App& app, std::vector<Destination> written) {
  co_await run_all(written.size(), [&](std::size_t i) {
    return remove_logged(app, written[i].volume->volume().url, written[i].target);
  });
}

// Returns the key's current record if a PUT may write it: not while a path-colliding key
// ("a" for "a/b", or "a/b" for "a") is stored or being written.
Result<std::optional<Record>> record_for_put(App& app, std::string_view key) {
  if (auto busy = app.locks.busy_relative(key)) {
    return Error::key_conflict("\"" + *busy + "\" is being written and collides with \"" +
                               std::string(key) + "\" as a path");
  }
  for (const auto parent : parent_keys(key)) {
    auto found = app.index.get(parent);
    if (!found) return found.error();
    if (*found) {
      return Error::key_conflict("\"" + std::string(parent) + "\" exists, so \"" +
                                 std::string(key) + "\" cannot be stored below it");
    }
  }
  auto children = app.index.list(child_prefix(key), {}, 1);
  if (!children) return children.error();
  if (!children->empty()) {
    return Error::key_conflict("\"" + children->front() + "\" exists below \"" +
                               std::string(key) + "\", so it cannot be stored as a blob");
  }
  return app.index.get(key);
}

// Sends one piece of the body to every upload at once.
net::awaitable<void> send_piece(std::vector<std::unique_ptr<Upload>>& uploads,
                                net::const_buffer piece, bool last) {
  co_await run_all(uploads.size(), [&](std::size_t i) { return uploads[i]->send(piece, last); });
}

// Reads the next piece of the body into out, storing the outcome in got.
net::awaitable<void> read_piece(RequestBody& body, std::span<char> out, Result<std::size_t>& got) {
  got = co_await body.read(out);
}

// Streams the request body to every upload as it arrives, reading the next piece from the
// client while the current one goes to the volumes. Stops early once an upload fails (the PUT
// is lost anyway); returns the body's size.
net::awaitable<Result<std::uint64_t>> relay_body(App& app, RequestBody& body,
                                                 std::vector<std::unique_ptr<Upload>>& uploads) {
  const std::uint64_t piece_size =
      std::min<std::uint64_t>(app.config.piece_size, body.length().value_or(app.config.piece_size));
  std::vector<char> current(piece_size), next(body.done() ? 0 : piece_size);
  Result<std::size_t> n = co_await body.read(current);
  std::uint64_t total = 0;
  for (;;) {
    if (!n) co_return n.error();
    total += *n;
    const net::const_buffer piece = net::buffer(current.data(), *n);
    if (body.done()) {
      co_await send_piece(uploads, piece, true);
      co_return total;
    }
    Result<std::size_t> following = std::size_t{0};
    co_await run_all(2, [&](std::size_t i) {
      return i == 0 ? send_piece(uploads, piece, false) : read_piece(body, next, following);
    });
    const bool failed = std::any_of(uploads.begin(), uploads.end(),
                                    [](const auto& u) { return u->reply().has_value(); });
    if (failed) co_return total;
    std::swap(current, next);
    n = std::move(following);
  }
}

// Writes the body to every destination. Returns, per destination, what became of the write,
// and the body's size.
struct FanOut {
  std::vector<WriteOutcome> outcomes;
  std::uint64_t size = 0;
};
net::awaitable<Result<FanOut>> fan_out(App& app, RequestBody& body,
                                       const std::vector<Destination>& destinations) {
  std::vector<std::unique_ptr<Upload>> uploads;
  for (const auto& d : destinations) {
    uploads.push_back(std::make_unique<Upload>(*d.volume, d.target, body.length()));
  }
  auto size = co_await relay_body(app, body, uploads);
  if (!size) co_return size.error();
  FanOut out;
  out.size = *size;
  for (const auto& u : uploads) {
    out.outcomes.push_back(u->outcome());
    if (!u->stored() && u->reply() && !u->reply()->has_value()) {
      log_line("PUT " + u->target() + ": " + u->reply()->error().detail);
    } else if (!u->stored()) {
      log_line("PUT " + u->target() + " on " + u->volume().url + " answered " +
               (u->reply() ? std::to_string(u->reply()->value()) : std::string("nothing")));
    }
  }
  co_return out;
}

// Moves one staged file onto the key; sets moved when the volume did.
net::awaitable<void> move_one(App& app, Destination staged, std::string key, char& moved) {
  const auto& volume = staged.volume->volume();
  auto reply = co_await app.volumes.move(volume.url, staged.target, volume_target(volume, key));
  moved = reply && (*reply == 201 || *reply == 204);
  if (!moved) {
    log_line("MOVE " + staged.target + " on " + volume.url + " failed: " +
             (reply ? std::to_string(*reply) : reply.error().detail));
  }
}

// Moves each staged file onto the key; returns which volumes did.
net::awaitable<std::vector<bool>> move_into_place(App& app, std::string key,
                                                  std::vector<Destination> staged) {
  std::vector<char> moved(staged.size(), 0);  // not vector<bool>: written concurrently
  co_await run_all(staged.size(),
                   [&](std::size_t i) { return move_one(app, staged[i], key, moved[i]); });
  co_return std::vector<bool>(moved.begin(), moved.end());
}

// Completes an overwrite whose body is staged on every placement volume and whose new record
// is committed: moves the staged files onto the key and settles the index on the outcome.
net::awaitable<Result<Reply>> finish_staged(App& app, std::string key, std::optional<Record> old,
                                            Record committed,
                                            std::vector<Destination> staged) {
  const auto moved = co_await move_into_place(app, key, staged);
  const MoveDecision decision = decide_after_moves(moved);
  Record final_record = committed;
  switch (decision.action) {
    case MoveDecision::Action::keep:
      break;
    case MoveDecision::Action::narrow:
      final_record.volumes = pick(committed.volumes, decision.kept);
      break;
    case MoveDecision::Action::revert:
      final_record = *old;
      break;
  }
  if (decision.action != MoveDecision::Action::keep) {
    const Write settle{key, final_record};
    auto settled = co_await app.writer.apply(settle);
    if (!settled) log_line("index repair after failed MOVE of " + key + ": " + settled.error().detail);
    std::vector<Destination> leftovers;
    for (std::size_t i : decision.failed) leftovers.push_back(staged[i]);
    co_await remove_written(app, std::move(leftovers));
  }
  co_await remove_copies(app, key, stale_copies(old, final_record));
  if (decision.action != MoveDecision::Action::keep) co_return Error::volume_write_failed();
  co_return empty_reply(http::status::created);
}

net::awaitable<Result<Reply>> handle_put(App& app, std::string key, RequestBody& body) {
  auto placement = volumes_for_key(key, app.config.volume_urls, app.config.replicas);
  if (!placement) co_return placement.error();
  KeyGuard guard = co_await app.locks.acquire(key);
  auto existing = record_for_put(app, key);
  if (!existing) co_return existing.error();

  const PutMode mode = put_mode(*existing);
  auto targets = destinations(app, key, *placement,
                              mode == PutMode::staged ? staging_token() : std::string());
  if (!targets) co_return targets.error();
  if (auto r = co_await body.continue_if_expected(); !r) co_return r.error();

  auto fan = co_await fan_out(app, body, *targets);
  if (!fan) co_return fan.error();
  const FanOutDecision decision = decide_rollback(fan->outcomes);
  if (!decision.commit) {
    std::vector<Destination> undo;
    for (std::size_t i : decision.undo) undo.push_back((*targets)[i]);
    co_await remove_written(app, std::move(undo));
    co_return Error::volume_write_failed();
  }

  Record record{std::move(*placement), fan->size};
  const Write commit{key, record};
  if (auto committed = co_await app.writer.apply(commit); !committed) {
    co_await remove_written(app, *targets);
    co_return committed.error();
  }
  if (mode == PutMode::staged) {
    co_return co_await finish_staged(app, key, std::move(*existing), std::move(record),
                                     std::move(*targets));
  }
  co_return empty_reply(http::status::created);
}

net::awaitable<Result<Reply>> handle_delete(App& app, std::string key) {
  KeyGuard guard = co_await app.locks.acquire(key);
  auto record = app.index.get(key);
  if (!record) co_return record.error();
  if (!*record) co_return Error::not_found();
  const Write removal{key, std::nullopt};
  if (auto removed = co_await app.writer.apply(removal); !removed) {
    co_return removed.error();
  }
  co_await remove_copies(app, key, (*record)->volumes);
  co_return empty_reply(http::status::no_content);
}

// Returns the record of key for a read, or not_found / corrupt_record.
Result<Record> record_for_read(App& app, const std::string& key) {
  auto record = app.index.get(key);
  if (!record) return record.error();
  if (!*record) return Error::not_found();
  if ((*record)->volumes.empty()) return Error::corrupt_record(key);
  return std::move(**record);
}

Result<Reply> handle_get(App& app, const std::string& key) {
  auto record = record_for_read(app, key);
  if (!record) return record.error();
  Reply reply = empty_reply(http::status::found);
  reply.set(http::field::location, volume_location(record->volumes.front(), key));
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

}  // namespace

net::awaitable<Result<void>> RequestBody::continue_if_expected() {
  if (continued_ || parser_.is_done()) co_return Result<void>{};
  continued_ = true;
  const auto expect = parser_.get()[http::field::expect];
  if (!beast::iequals(expect, "100-continue")) co_return Result<void>{};
  http::response<http::empty_body> go_on{http::status::continue_, parser_.get().version()};
  stream_.expires_after(timeout_);
  auto [ec, n] = co_await http::async_write(stream_, go_on, as_values);
  if (ec) co_return Error::bad_request("client connection: " + ec.message());
  co_return Result<void>{};
}

net::awaitable<Result<std::size_t>> RequestBody::read(std::span<char> out) {
  const auto start = std::chrono::steady_clock::now();
  std::size_t filled = 0;
  while (filled < out.size() && !parser_.is_done()) {
    auto& body = parser_.get().body();
    body.data = out.data() + filled;
    body.size = out.size() - filled;
    // Each read must bring bytes within the timeout (a stall), and once the timeout has passed
    // the bytes must keep coming at min_body_rate on average (a trickle). A steady client is
    // never cut for taking longer than the timeout to fill a whole piece.
    const auto earned =
        start + timeout_ + std::chrono::milliseconds(filled * 1000 / min_body_rate);
    stream_.expires_at(std::min(std::chrono::steady_clock::now() + timeout_, earned));
    auto [ec, n] = co_await http::async_read_some(stream_, buffer_, parser_, as_values);
    filled = out.size() - body.size;
    if (ec && ec != http::error::need_buffer) {
      co_return Error::bad_request("request body: " + ec.message());
    }
  }
  co_return filled;
}

net::awaitable<Result<Reply>> handle(App& app, Route route, RequestBody& body) {
  switch (route.op) {
    case Operation::put: co_return co_await handle_put(app, std::move(route.key), body);
    case Operation::remove: co_return co_await handle_delete(app, std::move(route.key));
    case Operation::get: co_return handle_get(app, route.key);
    case Operation::head: co_return handle_head(app, route.key);
    case Operation::list: co_return handle_list(app, route.query);
  }
  co_return Error::method_not_allowed(std::string(key_methods));
}

}  // namespace mkv
