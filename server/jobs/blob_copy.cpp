// Streams a blob from one volume to another (see blob_copy.h).
#include "blob_copy.h"

#include "volume/download.h"
#include "volume/upload.h"

#include "mkv/volume_answer.h"

#include <algorithm>
#include <span>
#include <vector>

namespace mkv {

net::awaitable<Result<void>> copy_blob(VolumePool& source, std::string from, VolumePool& target,
                                       std::string to, std::uint64_t size,
                                       std::optional<Md5> md5, Throttle* throttle) {
  Download download(source, from);
  auto status = co_await download.start();
  if (!status) co_return status.error();
  if (classify_answer(VolumeVerb::get, *status) != Answer::done) {
    co_return Error::volume_request_failed(source.volume().url + " answered " +
                                           std::to_string(*status) + " to GET " + from);
  }
  if (download.length() != size) {
    co_return Error::volume_request_failed(
        source.volume().url + from + " holds " +
        (download.length() ? std::to_string(*download.length()) : std::string("unknown")) +
        " bytes, the index says " + std::to_string(size));
  }
  Upload upload(target, to, size);
  std::vector<char> piece(
      std::min<std::uint64_t>(job_piece_size, std::max<std::uint64_t>(size, 1)));
  Md5Stream hash;
  for (;;) {
    auto n = co_await download.read(piece);
    if (!n) co_return n.error();  // the unfinished upload is dropped with its connection
    const bool last = download.done();
    hash.update(std::span<const char>(piece.data(), *n));
    if (throttle) co_await throttle->take(*n);
    if (last && md5) {
      const Md5 got = hash.finish();
      if (got != *md5) {
        co_return Error::volume_request_failed(source.volume().url + from + " is corrupt: MD5 " +
                                               to_hex(got) + ", the index says " + to_hex(*md5));
      }
    }
    co_await upload.send(net::buffer(piece.data(), *n), last);
    if (last || upload.reply()) break;
  }
  if (upload.stored()) co_return Result<void>{};
  const auto& reply = upload.reply();
  if (reply && !reply->has_value()) co_return reply->error();
  co_return Error::volume_request_failed(
      target.volume().url + " answered " + (reply ? std::to_string(reply->value()) : "nothing") +
      " to PUT " + upload.target());
}

}  // namespace mkv
