// Finishing an overwrite: its body is staged on the volumes, its new record committed together
// with its intent (mkv/record.h); then the staged copies are moved onto the key, the index is
// settled on what moved (mkv/rollback.h decides) and the intent ended. PUT does this, and so
// does `serve` at start-up for the intents a crash left, before it takes requests.
#pragma once

#include "app.h"

#include "mkv/record.h"

#include <string>

namespace mkv {

// Moves intent's staged copies onto its key, settles the index (expecting the key to hold
// committed) and ends the intent; deletes what is left over. Returns whether every copy moved,
// so that committed stands as it is. recovering: after a crash, where a staged copy that is no
// longer there was moved by the run the crash cut short.
net::awaitable<Result<bool>> finish_overwrite(App& app, Intent intent, Record committed,
                                              bool recovering = false);

// Finishes every intent the index holds, then deletes from every volume of the topology the
// staging files no intent names (left by PUTs that a crash cut short before their commit).
// Called before the server takes requests: nothing is in flight.
net::awaitable<void> recover_overwrites(App& app);

}  // namespace mkv
