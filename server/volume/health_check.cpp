// Probes and capability checks of a volume (see health_check.h).
#include "health_check.h"

#include "client.h"
#include "token.h"
#include "upload.h"

#include "mkv/autoindex.h"
#include "mkv/capability.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

namespace mkv {

namespace {

// Returns whether a listing names the check's moved file.
bool lists(const std::vector<ListingEntry>& entries, const std::string& token) {
  return std::any_of(entries.begin(), entries.end(), [&](const ListingEntry& e) {
    return e.name == token + ".moved" && e.kind == ListingKind::file;
  });
}

// Records a step's outcome: a transport failure, or the problem its answer shows. Returns
// whether the check may go on.
bool step_passed(VolumePool& volume, const VolumeReply& reply, CapabilityStep step,
                 bool listed_json = true) {
  if (!reply) {
    volume.observe(Seen::failed, reply.error().detail);
    return false;
  }
  if (auto problem = capability_problem(step, *reply, listed_json)) {
    volume.observe(Seen::incapable, *problem);
    return false;
  }
  return true;
}

}  // namespace

net::awaitable<void> probe(VolumePool& volume, std::chrono::milliseconds timeout) {
  const std::string target = volume.volume().path + '/' + std::string(reserved_segment) + '/';
  const std::string head = request_head("HEAD", target, volume.volume(), volume.options().signing);
  auto connection = co_await volume.acquire(timeout);
  if (!connection) co_return;  // acquire recorded the failure
  auto& stream = *connection->stream;
  stream.expires_after(timeout);
  auto [wec, written] = co_await net::async_write(stream, net::buffer(head), as_values);
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // the answer to a HEAD has no body
  boost::system::error_code rec;
  if (!wec)
    std::tie(rec, std::ignore) = co_await http::async_read(stream, buffer, parser, as_values);
  const auto ec = wec ? wec : rec;
  if (ec) {
    volume.observe(Seen::failed, transport_error(volume.volume(), "probe", ec).detail);
    co_return;
  }
  volume.observe_status(parser.get().result_int(), "probe");
  if (parser.get().keep_alive()) volume.release(std::move(*connection));
}

namespace {

// Runs the capability check's steps (see check_capabilities).
net::awaitable<void> run_check(VolumePool& volume) {
  const std::string token = random_token(2);
  const std::string& prefix = volume.volume().path;
  const std::string staged = capability_target(prefix, token, false);
  const std::string moved = capability_target(prefix, token, true);

  const std::string body = "mkv capability check\n";
  Upload upload(volume, staged, body.size());
  co_await upload.send(net::buffer(body), true);
  if (!step_passed(volume, upload.reply().value_or(VolumeReply(0u)), CapabilityStep::put)) {
    co_return;
  }
  auto move_reply = co_await volume_move(volume, staged, moved);
  if (!step_passed(volume, move_reply, CapabilityStep::move)) {
    (void)co_await volume_delete(volume, staged);
    co_return;
  }
  auto listing = co_await volume_get(volume, capability_directory(prefix), 1 << 20);
  const auto entries =
      listing ? parse_autoindex(listing->body) : Result<std::vector<ListingEntry>>(listing.error());
  // What checks cut short left (their volume went away mid-check) goes, but never what may be
  // another server's check under way: other servers sharing the volume check it too.
  const auto leftovers =
      entries ? leftover_checks(*entries, token + ".moved") : std::vector<std::string>{};
  const VolumeReply list_reply =
      listing ? VolumeReply(listing->status) : VolumeReply(listing.error());
  const bool list_ok =
      step_passed(volume, list_reply, CapabilityStep::list, entries && lists(*entries, token));
  for (const auto& name : leftovers) {
    (void)co_await volume_delete(volume, capability_directory(prefix) + name);
  }
  auto delete_reply = co_await volume_delete(volume, moved);
  if (!list_ok || !step_passed(volume, delete_reply, CapabilityStep::remove)) co_return;
  volume.observe(Seen::capable);
}

}  // namespace

net::awaitable<void> check_capabilities(VolumePool& volume) {
  if (!volume.begin_check()) co_return;  // one check of a volume at a time
  co_await run_check(volume);
  volume.end_check();
}

}  // namespace mkv
