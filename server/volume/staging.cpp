// Listing a volume's staging directory (see staging.h).
#include "staging.h"

#include "mkv/volume_answer.h"

#include <cstdint>
#include <utility>

namespace mkv {

namespace {

// The largest staging directory listing read.
constexpr std::uint64_t staging_listing_limit = std::uint64_t{1} << 30;

}  // namespace

net::awaitable<Result<StagingListing>> list_staging(VolumePool& volume) {
  const std::string target = staging_directory_target(volume.volume());
  auto reply = co_await volume_get(volume, target, staging_listing_limit);
  if (!reply) co_return reply.error();
  StagingListing listing;
  listing.date = std::move(reply->date);
  const Answer answer = classify_answer(VolumeVerb::get, reply->status);
  if (answer == Answer::absent) co_return listing;
  if (answer != Answer::done) {
    co_return Error::volume_request_failed("GET " + target + " answered " +
                                           std::to_string(reply->status));
  }
  auto entries = parse_autoindex(reply->body);
  if (!entries) co_return Error::malformed_listing("GET " + target + ": " + entries.error().detail);
  for (auto& e : *entries) {
    if (e.kind == ListingKind::file) listing.files.push_back(std::move(e));
  }
  co_return listing;
}

}  // namespace mkv
