// The native HTTP API of `mkv serve`: carries out a routed request (mkv/route.h) and returns
// its reply or the error to answer with.
#pragma once

#include "app.h"
#include "http/reply.h"
#include "http/request_body.h"

#include "mkv/error.h"
#include "mkv/route.h"

#include <boost/asio.hpp>

namespace mkv {

// Carries out a routed request and returns the reply, or the error to answer with.
net::awaitable<Result<Reply>> handle(App& app, Route route, RequestBody& body);

}  // namespace mkv
