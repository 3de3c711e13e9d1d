// The two ways mkv asks a volume how it is, besides its own requests: a probe (is it there?)
// and the capability check (can it take what mkv sends?). Each reports what it saw to the
// volume's health record (VolumePool::observe).
#pragma once

#include "pool.h"
#include "transport.h"

#include <chrono>

namespace mkv {

// Sends HEAD <prefix>/.mkv/ and waits at most timeout (connecting included) for the answer:
// any status below 500 is an answer, anything else a failure.
net::awaitable<void> probe(VolumePool& volume, std::chrono::milliseconds timeout);

// Runs the capability check (mkv/capability.h): PUT a small file under /.mkv/check/, MOVE it,
// list the directory as JSON, DELETE it. A step that fails makes the volume unwritable, and the
// log line says what to add to its nginx configuration; a volume that does not answer is a
// failure; passing every step makes it capable.
net::awaitable<void> check_capabilities(VolumePool& volume);

}  // namespace mkv
