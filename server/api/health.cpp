// GET /.mkv/health: the health report for load balancers and people (mkv/health.h).
#include "handlers.h"

#include "index/reads.h"

#include "mkv/health.h"

namespace mkv {

net::awaitable<Result<Reply>> handle_health(App& app) {
  HealthReport report;
  if (auto readable = co_await read_keys(app.index, "", "", 1); !readable) {
    report.index_error = message(readable.error());
  }
  const auto topology = app.topology.load();
  for (const auto& url : topology->urls) {
    auto volume = app.volumes.pool(url);
    if (volume) report.volumes.push_back((*volume)->report());
  }
  Reply reply = empty_reply(static_cast<http::status>(health_http_status(report)));
  reply.set(http::field::content_type, "application/json");
  reply.set(http::field::cache_control, "no-store");
  reply.body() = encode_health(report);
  co_return reply;
}

}  // namespace mkv
