// The library headers nearly every room of the server includes, precompiled once per build
// target (Meson's cpp_pch) so each source file does not parse Asio and Beast again.

#include <boost/asio.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
