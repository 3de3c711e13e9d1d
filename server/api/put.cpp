// PUT /{key}: the body is streamed to the key's placement volumes as it arrives, then the
// record is committed; an overwrite is staged and moved into place so the old value is never
// lost (mkv/rollback.h has the decisions).
#include "handlers.h"

#include "clock.h"
#include "copies.h"
#include "log.h"
#include "overwrite.h"
#include "hashing.h"
#include "index/reads.h"
#include "index/shared.h"
#include "run_all.h"
#include "volume/token.h"
#include "volume/upload.h"

#include "mkv/checksum.h"
#include "mkv/conditions.h"
#include "mkv/key.h"
#include "mkv/rollback.h"
#include "mkv/topology.h"
#include "mkv/volume.h"
#include "mkv/volume_answer.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace mkv {

namespace {

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
// ("a" for "a/b", or "a/b" for "a") is stored or being written, here or, on a shared index, by
// another server (whose lease on it is live).
net::awaitable<Result<std::optional<Record>>> record_for_put(App& app, const KeyGuard& guard,
                                                             std::string_view key) {
  if (guard.lease_failed()) co_return Error::database("cannot lock \"" + std::string(key) + "\"");
  auto busy = app.locks.busy_relative(key);
  if (!busy) {
    auto leased = co_await leased_relative(app.index, key);
    if (!leased) co_return leased.error();
    busy = std::move(*leased);
  }
  if (busy) {
    co_return Error::key_conflict("\"" + *busy + "\" is being written and collides with \"" +
                                  std::string(key) + "\" as a path");
  }
  for (const auto parent : parent_keys(key)) {
    auto found = co_await read_record(app.index, parent);
    if (!found) co_return found.error();
    if (*found) {
      co_return Error::key_conflict("\"" + std::string(parent) + "\" exists, so \"" +
                                    std::string(key) + "\" cannot be stored below it");
    }
  }
  auto children = co_await read_keys(app.index, child_prefix(key), {}, 1);
  if (!children) co_return children.error();
  if (!children->empty()) {
    co_return Error::key_conflict("\"" + children->front() + "\" exists below \"" +
                                  std::string(key) + "\", so it cannot be stored as a blob");
  }
  co_return co_await read_record(app.index, key);
}

// Sends one piece of the body to every upload at once.
net::awaitable<void> send_piece(std::vector<std::unique_ptr<Upload>>& uploads,
                                net::const_buffer piece, bool last) {
  co_await run_all(uploads.size(), [&](std::size_t i) { return uploads[i]->send(piece, last); });
}

// Reads the next piece of the body into out, storing the outcome in got.
net::awaitable<void> read_piece(BodySource& body, std::span<char> out, Result<std::size_t>& got) {
  got = co_await body.read(out);
}

// How many pieces of a PUT body may wait to be hashed while the relay goes on (each holds a
// buffer of piece_size).
constexpr std::size_t hash_lag = 2;

// Streams the request body to every upload as it arrives, starting with the first piece
// (already read into current, n bytes; a body that was whole in it is still there after),
// reading the next piece from the client while the current one goes to the volumes, and
// handing each piece to hasher, which hashes it behind the relay (up to hash_lag pieces behind).
// Stops early once an upload fails (the PUT is lost anyway); returns the body's size once
// every piece is hashed.
net::awaitable<Result<std::uint64_t>> relay_body(BodySource& body,
                                                 std::vector<std::unique_ptr<Upload>>& uploads,
                                                 std::vector<char>& current, std::size_t n,
                                                 PieceHasher& hasher) {
  std::deque<std::vector<char>> hashing;  // the buffers of pieces being hashed, oldest first
  Result<std::size_t> got = n;
  Result<std::uint64_t> total = std::uint64_t{0};
  for (;;) {
    if (!got) {
      total = got.error();
      break;
    }
    *total += *got;
    const net::const_buffer piece = net::buffer(current.data(), *got);
    hasher.add(std::span<const char>(current.data(), *got));
    if (body.done()) {
      co_await send_piece(uploads, piece, true);
      break;
    }
    // The next piece's buffer: a new one while few pieces wait to be hashed, else the oldest's.
    std::vector<char> next;
    if (hashing.size() < hash_lag) {
      next.resize(current.size());
    } else {
      co_await hasher.hashed();
      next = std::move(hashing.front());
      hashing.pop_front();
    }
    Result<std::size_t> following = std::size_t{0};
    co_await run_all(2, [&](std::size_t i) {
      return i == 0 ? send_piece(uploads, piece, false) : read_piece(body, next, following);
    });
    hashing.push_back(std::move(current));  // (its bytes stay where they are)
    current = std::move(next);
    const bool failed = std::any_of(uploads.begin(), uploads.end(),
                                    [](const auto& u) { return u->reply().has_value(); });
    if (failed) break;
    got = std::move(following);
  }
  co_await hasher.all();  // before the buffers go
  co_return total;
}

// Deletes the directory key/ at each destination (a DELETE of a directory removes what is in
// it). Only for a new key, under its write lock, after record_for_put found no key below it
// stored or being written: what such a directory holds is empty directories left by deleted
// keys, or files no record names.
net::awaitable<void> clear_directories(std::string key, std::vector<Destination> destinations) {
  co_await run_all(destinations.size(), [&](std::size_t i) {
    return remove_quietly(*destinations[i].volume,
                          volume_directory_target(destinations[i].volume->volume(), key));
  });
}

// Writes a whole body to one destination again, after clearing the directory that refused it.
net::awaitable<void> write_again(Destination d, std::string key, net::const_buffer whole,
                                 WriteOutcome& outcome) {
  co_await remove_quietly(*d.volume, volume_directory_target(d.volume->volume(), key));
  Upload upload(*d.volume, d.target, whole.size());
  co_await upload.send(whole, true);
  outcome = upload.outcome();
}

// Logs why an upload did not store its body.
void log_refusal(const Upload& u) {
  if (u.reply() && !u.reply()->has_value()) {
    log_line("PUT " + u.target() + ": " + u.reply()->error().detail);
  } else {
    log_line("PUT " + u.target() + " on " + u.volume().url + " answered " +
             (u.reply() ? std::to_string(u.reply()->value()) : std::string("nothing")));
  }
}

// Writes the body to every destination. Returns, per destination, what became of the write,
// and the body's size.
//
// A directory key/ on a volume (left by keys below key that were deleted) makes nginx refuse
// the PUT of key with 409. For a new key mkv clears it: before sending a body that is
// streamed (it cannot be sent twice), and after a refusal for a body that arrived whole (it is
// still in memory), so the common case costs nothing.
struct FanOut {
  std::vector<WriteOutcome> outcomes;
  std::uint64_t size = 0;
  Md5 md5{};
  std::optional<Sha256> sha256;  // when asked for
};
net::awaitable<Result<FanOut>> fan_out(App& app, BodySource& body, std::string key, PutMode mode,
                                       const std::vector<Destination>& destinations,
                                       bool want_sha256) {
  const std::uint64_t piece_size =
      std::min<std::uint64_t>(app.settings.piece_size,
                              body.length().value_or(app.settings.piece_size));
  std::vector<char> first(piece_size);
  auto n = co_await body.read(first);
  if (!n) co_return n.error();
  const bool whole = body.done();
  if (mode == PutMode::direct && !whole) co_await clear_directories(key, destinations);

  std::vector<std::unique_ptr<Upload>> uploads;
  for (const auto& d : destinations) {
    uploads.push_back(std::make_unique<Upload>(*d.volume, d.target, body.length()));
  }
  Md5Stream md5;
  std::optional<Sha256Stream> sha256;
  if (want_sha256) sha256.emplace();
  PieceHasher hasher(app.hashers, co_await net::this_coro::executor, md5,
                     sha256 ? &*sha256 : nullptr, hash_lag + 1);
  auto size = co_await relay_body(body, uploads, first, *n, hasher);
  if (!size) co_return size.error();
  FanOut out;
  out.size = *size;
  out.md5 = md5.finish();
  if (sha256) out.sha256 = sha256->finish();
  for (const auto& u : uploads) out.outcomes.push_back(u->outcome());

  std::vector<std::size_t> retry;
  for (std::size_t i = 0; i < uploads.size(); ++i) {
    const auto& reply = uploads[i]->reply();
    const auto status = reply && reply->has_value() ? std::optional(**reply) : std::nullopt;
    if (whole && directory_in_way(mode, status)) {
      retry.push_back(i);
    } else if (out.outcomes[i] != WriteOutcome::stored) {
      log_refusal(*uploads[i]);
    }
  }
  co_await run_all(retry.size(), [&](std::size_t r) {
    const std::size_t i = retry[r];
    return write_again(destinations[i], key, net::buffer(first.data(), *n), out.outcomes[i]);
  });
  co_return out;
}

// Deletes what a failed PUT wrote, then releases the key's lock.
net::awaitable<void> undo_then_unlock([[maybe_unused]] KeyGuard guard,
                                      std::vector<Destination> written) {
  co_await remove_written(std::move(written));
}

}  // namespace

Result<PutOptions> put_options_of(const RequestBody& request) {
  PutOptions options;
  if (const auto header = request.field(http::field::content_md5)) {
    auto md5 = parse_content_md5(*header);
    if (!md5) return md5.error();
    options.expected_md5 = *md5;
  }
  return options;
}

net::awaitable<Result<Reply>> handle_put(App& app, std::string key, Conditions conditions,
                                         BodySource& body, const PutOptions& options) {
  const auto& expected_sha256 = options.expected_sha256;
  const auto& expected_md5 = options.expected_md5;
  const auto topology = app.topology.load();
  // Where to write: the placement, or with --write-fallback the next volumes that are up.
  // While every volume is up (the common case) this asks nothing of the volumes' health.
  const bool all_up = app.volumes.all_up();
  auto placement = all_up ? placement_of(key, *topology)
                          : write_targets(key, *topology, app.volumes.states(topology->urls),
                                          app.settings.write_fallback);
  if (!placement) co_return placement.error();
  // A key written to other volumes than its placement is marked for repair (the index keeps
  // it, so that the copies move back once the placement's volumes are up again).
  bool off_placement = false;
  if (!all_up) {
    const auto home = placement_of(key, *topology);
    off_placement = !home || *home != *placement;
  }
  KeyGuard guard = co_await app.locks.acquire(key);
  auto existing = co_await record_for_put(app, guard, key);
  if (!existing) co_return existing.error();
  // Under the key's lock, so the check and the write are one step: If-None-Match: * creates
  // only, If-Match is a compare-and-swap.
  if (evaluate(conditions, *existing, false) != Verdict::proceed) {
    co_return Error::precondition_failed();
  }

  const PutMode mode = put_mode(*existing);
  const std::string token = mode == PutMode::staged ? random_token(8) : std::string();
  auto targets = destinations(app, key, *placement, token);
  if (!targets) co_return targets.error();
  if (auto r = co_await body.begin(); !r) co_return r.error();

  auto fan = co_await fan_out(app, body, key, mode, *targets, expected_sha256.has_value());
  if (!fan) co_return fan.error();
  const FanOutDecision decision = decide_rollback(fan->outcomes);
  const bool digest_mismatch = expected_md5 && *expected_md5 != fan->md5;
  const bool hash_mismatch = expected_sha256 && lower_hex(*fan->sha256) != *expected_sha256;
  if (!decision.commit || digest_mismatch || hash_mismatch) {
    std::vector<Destination> undo;
    if (decision.commit) {
      undo = *targets;  // every copy was written, none may stay
    } else {
      for (std::size_t i : decision.undo) undo.push_back((*targets)[i]);
    }
    // The client has its answer now; the undo goes on holding the key's lock, so no later write
    // of the key can meet it. (Deleting from a volume that just hung would cost another
    // timeout.)
    net::co_spawn(co_await net::this_coro::executor,
                  undo_then_unlock(std::move(guard), std::move(undo)), net::detached);
    if (!decision.commit) co_return Error::volume_write_failed();
    if (hash_mismatch) {
      co_return Error::payload_hash_mismatch("x-amz-content-sha256 says " + *expected_sha256 +
                                             ", the body's SHA-256 is " +
                                             lower_hex(*fan->sha256));
    }
    co_return Error::bad_digest("Content-MD5 says " + to_hex(*expected_md5) +
                                ", the body's MD5 is " + to_hex(fan->md5));
  }

  Record record{std::move(*placement), fan->size, fan->md5, unix_seconds(), options.meta};
  Write commit{key, record, Expected::current(*existing)};
  if (off_placement) commit.repair = RepairMark::set;
  if (mode == PutMode::staged) {
    // Recorded with the commit: if the server dies before the moves are settled, it finishes
    // them at its next start.
    commit.begin_intent = Intent{token, key, record.volumes, **existing};
  }
  auto committed = co_await app.writer.apply(commit);
  if (!committed || *committed != Applied::written) {
    co_await remove_written(*targets);
    if (!committed) co_return committed.error();
    co_return Error::precondition_failed();  // the key changed under us (another server)
  }
  if (mode == PutMode::staged) {
    auto finished = co_await finish_overwrite(app, std::move(*commit.begin_intent), record);
    if (!finished) co_return finished.error();
    if (!*finished) co_return Error::volume_write_failed();
  }
  Reply reply = empty_reply(http::status::created);
  reply.set(http::field::etag, etag_of(record).value());
  co_return reply;
}

}  // namespace mkv
