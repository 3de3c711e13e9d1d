// PUT /{key}: the body is streamed to the key's placement volumes as it arrives, then the
// record is committed; an overwrite is staged and moved into place so the old value is never
// lost (mkv/rollback.h has the decisions).
#include "handlers.h"

#include "copies.h"
#include "log.h"
#include "run_all.h"
#include "volume/upload.h"

#include "mkv/key.h"
#include "mkv/rollback.h"
#include "mkv/topology.h"
#include "mkv/volume.h"
#include "mkv/volume_answer.h"

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace mkv {

namespace {

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

// Returns the destinations of a PUT on the placement volumes.
Result<std::vector<Destination>> destinations(App& app, std::string_view key,
                                              const std::vector<std::string>& placement,
                                              const std::string& token) {
  std::vector<Destination> out;
  for (const auto& url : placement) {
    auto volume = app.volumes.pool(url);
    if (!volume) return volume.error();
    out.push_back({*volume, token.empty() ? volume_target((*volume)->volume(), key)
                                          : staging_target((*volume)->volume(), token)});
  }
  return out;
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
      std::min<std::uint64_t>(app.settings.piece_size,
                              body.length().value_or(app.settings.piece_size));
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
net::awaitable<void> move_one(Destination staged, std::string key, char& moved) {
  const auto& volume = staged.volume->volume();
  auto reply = co_await volume_move(*staged.volume, staged.target, volume_target(volume, key));
  moved = reply && classify_answer(VolumeVerb::move, *reply) == Answer::done;
  if (!moved) {
    log_line("MOVE " + staged.target + " on " + volume.url + " failed: " +
             (reply ? std::to_string(*reply) : reply.error().detail));
  }
}

// Moves each staged file onto the key; returns which volumes did.
net::awaitable<std::vector<bool>> move_into_place(std::string key,
                                                  std::vector<Destination> staged) {
  std::vector<char> moved(staged.size(), 0);  // not vector<bool>: written concurrently
  co_await run_all(staged.size(),
                   [&](std::size_t i) { return move_one(staged[i], key, moved[i]); });
  co_return std::vector<bool>(moved.begin(), moved.end());
}

// Completes an overwrite whose body is staged on every placement volume and whose new record
// is committed: moves the staged files onto the key and settles the index on the outcome.
net::awaitable<Result<Reply>> finish_staged(App& app, std::string key, std::optional<Record> old,
                                            Record committed,
                                            std::vector<Destination> staged) {
  const auto moved = co_await move_into_place(key, staged);
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
    if (!settled) {
      log_line("index repair after failed MOVE of " + key + ": " + settled.error().detail);
    }
    std::vector<Destination> leftovers;
    for (std::size_t i : decision.failed) leftovers.push_back(staged[i]);
    co_await remove_written(std::move(leftovers));
  }
  co_await remove_copies(app, key, stale_copies(old, final_record));
  if (decision.action != MoveDecision::Action::keep) co_return Error::volume_write_failed();
  co_return empty_reply(http::status::created);
}

}  // namespace

net::awaitable<Result<Reply>> handle_put(App& app, std::string key, RequestBody& body) {
  const auto topology = app.topology.load();
  auto placement = placement_of(key, *topology);
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
    co_await remove_written(std::move(undo));
    co_return Error::volume_write_failed();
  }

  Record record{std::move(*placement), fan->size};
  const Write commit{key, record};
  if (auto committed = co_await app.writer.apply(commit); !committed) {
    co_await remove_written(*targets);
    co_return committed.error();
  }
  if (mode == PutMode::staged) {
    co_return co_await finish_staged(app, key, std::move(*existing), std::move(record),
                                     std::move(*targets));
  }
  co_return empty_reply(http::status::created);
}

}  // namespace mkv
