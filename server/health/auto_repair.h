// Self-healing while `serve` runs (--auto-repair): the keys the index marks for repair — written
// to other volumes because a placement volume was down (--write-fallback), or left with fewer
// copies by an overwrite some volumes did not take — are moved onto their placement once its
// volumes are up again, a pass every --repair-interval, each key under its write lock like an
// online rebalance (RebalanceJob scoped to the marked keys). Its progress shows in /metrics.
#pragma once

#include "app.h"
#include "asio.h"

namespace mkv {

// Runs a repair pass every settings.repair_interval until the server stops (its gate closes):
// finishes the journal of a pass a crash cut short, then walks the marks. A pass stops early
// when the topology in force changes (an online rebalance takes the keys over). With
// auto_repair off, only counts the marks for the backlog metric.
net::awaitable<void> repair_marked_keys(App& app);

}  // namespace mkv
