// Deleting copies on volumes, best effort (see copies.h).
#include "copies.h"

#include "log.h"
#include "run_all.h"

#include "mkv/volume.h"
#include "mkv/volume_answer.h"

#include <utility>

namespace mkv {

namespace {

// Deletes target on volume, logging (not returning) a failure.
net::awaitable<void> remove_logged(VolumePool& volume, std::string target) {
  auto reply = co_await volume_delete(volume, target);
  if (!reply) {
    log_line("delete " + target + " on " + volume.volume().url +
             " failed: " + reply.error().detail);
  } else if (!removed(*reply)) {
    log_line("delete " + target + " on " + volume.volume().url + " answered " +
             std::to_string(*reply));
  }
}

// Deletes key from the volume at url, logging a failure.
net::awaitable<void> remove_copy(App& app, const std::string& key, const std::string& url) {
  auto volume = app.volumes.pool(url);
  if (!volume) {
    log_line("delete /" + encode_key(key) + " on " + url + " failed: " + volume.error().detail);
    co_return;
  }
  co_await remove_logged(**volume, volume_target((*volume)->volume(), key));
}

}  // namespace

net::awaitable<void> remove_copies(App& app, std::string key, std::vector<std::string> urls) {
  co_await run_all(urls.size(), [&](std::size_t i) { return remove_copy(app, key, urls[i]); });
}

net::awaitable<void> remove_written(std::vector<Destination> written) {
  co_await run_all(written.size(), [&](std::size_t i) {
    return remove_logged(*written[i].volume, written[i].target);
  });
}

net::awaitable<void> remove_quietly(VolumePool& volume, std::string target) {
  (void)co_await volume_delete(volume, std::move(target));
}

}  // namespace mkv
