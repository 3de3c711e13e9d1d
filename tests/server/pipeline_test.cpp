// The volume client in process, against real nginx volumes: small requests pipelined on one
// connection per io_context all get their own answers, also from a volume that closes its
// connections every few requests; a volume that is down or hung fails what queued at once
// instead of once per request.
#include "in_process.h"

#include "volume/client.h"
#include "volume/pool.h"
#include "volume/upload.h"

#include "mkv/volume.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace mkv;
using namespace mkv::test;
using namespace std::chrono_literals;

namespace {

// PUTs body as key on volume (a whole small body: it goes through the pipeline) and stores
// what became of it.
net::awaitable<void> put_one(VolumePool& volume, std::string key, std::string body,
                             WriteOutcome& outcome) {
  Upload upload(volume, volume_target(volume.volume(), key), body.size());
  co_await upload.send(net::buffer(body), true);
  outcome = upload.outcome();
}

// DELETEs key on volume and stores the answer.
net::awaitable<void> delete_one(VolumePool& volume, std::string key, VolumeReply& reply) {
  reply = co_await volume_delete(volume, volume_target(volume.volume(), key));
}

// PUTs count small blobs "p/i" at once.
net::awaitable<std::vector<WriteOutcome>> put_many(VolumePool& volume, int count) {
  std::vector<WriteOutcome> outcomes(count, WriteOutcome::refused);
  co_await run_all(count, [&](std::size_t i) {
    return put_one(volume, "p/" + std::to_string(i), "value " + std::to_string(i), outcomes[i]);
  });
  co_return outcomes;
}

// DELETEs "p/i" for count keys at once.
net::awaitable<std::vector<VolumeReply>> delete_many(VolumePool& volume, int count) {
  std::vector<VolumeReply> replies(count, VolumeReply(0u));
  co_await run_all(count, [&](std::size_t i) {
    return delete_one(volume, "p/" + std::to_string(i), replies[i]);
  });
  co_return replies;
}

VolumeOptions quick(std::chrono::milliseconds io_timeout) {
  VolumeOptions options;
  options.connect_timeout = 1000ms;
  options.io_timeout = io_timeout;
  return options;
}

}  // namespace

TEST_CASE("many small PUTs and DELETEs through one volume's pipeline each get their answer") {
  for (const Fault fault : {Fault::none, Fault::close_every_3}) {
    CAPTURE(static_cast<int>(fault));
    test::Volume volume(fault);
    IoThread io;  // declared first: the pool's connections belong to its io_context
    VolumePool pool(parse_volume_url(volume.url()).value(), quick(10000ms));
    const int count = 120;
    for (const auto outcome : io.run(put_many(pool, count))) CHECK(outcome == WriteOutcome::stored);
    for (int i = 0; i < count; ++i) {
      CHECK(volume.read("p/" + std::to_string(i)) == "value " + std::to_string(i));
    }
    for (const auto& reply : io.run(delete_many(pool, count))) {
      REQUIRE(reply.has_value());
      CHECK(classify_answer(VolumeVerb::remove, *reply) == Answer::done);
    }
    CHECK(volume.files().empty());
    // Deleting again finds nothing, which is as good as deleted.
    for (const auto& reply : io.run(delete_many(pool, 5))) CHECK(removed(reply.value()));
  }
}

TEST_CASE("a volume that is down fails every queued request, at once") {
  test::Volume volume;
  volume.stop();
  IoThread io;
  VolumePool pool(parse_volume_url(volume.url()).value(), quick(2000ms));
  const auto start = std::chrono::steady_clock::now();
  for (const auto& reply : io.run(delete_many(pool, 40))) {
    REQUIRE_FALSE(reply.has_value());
    CHECK(reply.error().code == errc::volume_request_failed);
  }
  CHECK(std::chrono::steady_clock::now() - start < 2000ms);
}

TEST_CASE("a volume that hangs costs the first batch one timeout, not one per request") {
  test::Volume volume;
  volume.pause();  // the kernel still accepts connections; nothing is ever answered
  IoThread io;
  VolumePool pool(parse_volume_url(volume.url()).value(), quick(1000ms));
  const auto start = std::chrono::steady_clock::now();
  const auto replies = io.run(delete_many(pool, 30));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  volume.resume();
  for (const auto& reply : replies) CHECK_FALSE(reply.has_value());
  CHECK(elapsed < 10000ms);  // a timeout each, one after the other, would be 30 s
}
