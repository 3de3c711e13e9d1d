// A stand-in for an nginx volume that serves a synthetic tree (synthetic_tree.h): JSON autoindex
// listings of its directories and GETs of bucket markers, computed on demand, so that rebuild can
// be tested and measured at millions of keys without files. Test-only; read-only.
#pragma once

#include "synthetic_tree.h"

#include <boost/asio.hpp>

#include <cstddef>
#include <memory>

namespace mkv::synth {

// Serves volume `self` of spec on acceptor (already listening) until ioc stops; one coroutine per
// connection, keep-alive.
void serve_volume(boost::asio::ip::tcp::acceptor& acceptor, std::shared_ptr<const TreeSpec> spec,
                  std::size_t self);

}  // namespace mkv::synth
