// One client connection of the S3 listener (see connection.h).
#include "s3/connection.h"

#include "clock.h"
#include "http/connection.h"
#include "http/reply.h"
#include "http/request_body.h"
#include "s3/early_reply.h"
#include "s3/handlers.h"
#include "s3/reply.h"
#include "volume/token.h"

#include "mkv/s3_names.h"
#include "mkv/s3_route.h"
#include "mkv/sigv4.h"

#include <boost/beast/http.hpp>

#include <array>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace mkv {

namespace {

namespace http = beast::http;
using namespace std::chrono_literals;
constexpr std::size_t body_read_size = 64 * 1024;  // the most one read of a body takes
constexpr std::size_t relay_piece = 256 * 1024;    // a GetObject's body, volume to client
constexpr std::size_t small_buffer = 8 * 1024;     // what a connection's buffer keeps idle

// Authenticates, routes and carries out one request: a finished reply, or a GetObject's head
// with the download its body comes from.
net::awaitable<S3Result<ObjectStream>> answer(App& app, S3Service& s3,
                                              const http::request_header<>& header,
                                              std::span<const Header> fields, RequestBody& body,
                                              const std::string& request_id, EarlyReply& early) {
  const std::string_view target = header.target();
  const auto question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  const std::string_view raw_query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const auto keys = [&s3](const Credential& c) { return s3.keys.key_for(c); };
  auto auth =
      authenticate({header.method_string(), raw_path, raw_query, fields, unix_seconds()}, keys);
  if (!auth) co_return auth.error();
  auto params = parse_query(raw_query);
  if (!params) co_return params.error();
  auto names = split_path_style(raw_path);
  if (!names) co_return names.error();
  const bool copy_source = find_header(fields, "x-amz-copy-source").has_value();
  auto op = route_s3(header.method_string(), names->bucket, names->key, *params, copy_source);
  if (!op) co_return op.error();

  S3Request request{app,
                    s3,
                    *op,
                    std::move(names->bucket),
                    std::move(names->key),
                    std::move(*params),
                    fields,
                    *auth,
                    body,
                    std::string(raw_path),
                    request_id,
                    early};
  S3Result<Reply> reply = Reply{};
  switch (*op) {
    case S3Op::get_object: co_return co_await open_object(request);
    case S3Op::list_buckets:
    case S3Op::create_bucket:
    case S3Op::head_bucket:
    case S3Op::delete_bucket:
    case S3Op::get_bucket_location:
    case S3Op::list_objects: reply = co_await handle_bucket_op(request); break;
    case S3Op::create_upload:
    case S3Op::upload_part:
    case S3Op::complete_upload:
    case S3Op::abort_upload:
    case S3Op::list_parts:
    case S3Op::list_uploads: reply = co_await handle_multipart_op(request); break;
    default: reply = co_await handle_object_op(request); break;
  }
  if (!reply) co_return reply.error();
  co_return ObjectStream{std::move(*reply), nullptr, 0};
}

// Copies a GetObject's body from its download to the client; false when either side failed
// (the client then sees a short body and a closed connection: the status is already sent).
net::awaitable<bool> relay_object(beast::tcp_stream& stream, ObjectStream& object,
                                  std::chrono::seconds timeout) {
  std::vector<char> piece(
      std::min<std::uint64_t>(relay_piece, std::max<std::uint64_t>(object.length, 1)));
  std::uint64_t sent = 0;
  while (sent < object.length) {
    auto n = co_await object.download->read(piece);
    if (!n || *n == 0) co_return false;
    stream.expires_after(timeout);
    auto [ec, written] =
        co_await net::async_write(stream, net::buffer(piece.data(), *n), as_values);
    if (ec) co_return false;
    sent += *n;
  }
  co_return object.download->done();
}

}  // namespace

net::awaitable<void> serve_s3_connection(App& app, S3Service& s3, beast::tcp_stream stream) {
  beast::flat_buffer buffer(app.settings.header_limit + 256 * 1024);
  std::string head_text;
  for (;;) {
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(app.settings.header_limit));
    parser.body_limit(boost::none);
    stream.expires_after(app.settings.client_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_values);
    if (ec) co_return;
    const auto started = std::chrono::steady_clock::now();
    const auto& header = parser.get();
    const bool head = header.method() == http::verb::head;
    const std::string request_id = random_token(2);
    if (!app.gate.enter()) {
      Reply reply = s3_error_reply(s3_error(s3errc::service_unavailable, "mkv is stopping"),
                                   header.target(), request_id);
      frame(reply, head, header.version(), false);
      stream.expires_after(5s);
      co_await http::async_write(stream, reply, as_values);
      co_await linger_close(stream);
      co_return;
    }
    if (!parser.is_done()) {
      const auto length = parser.content_length();
      const std::size_t chunk =
          length ? std::min<std::uint64_t>(*length, body_read_size) : body_read_size;
      buffer.reserve(std::min(buffer.max_size(), buffer.size() + chunk));
    }
    // botocore sends "Expect: 100-continue" with empty bodies too, and if the final answer comes
    // without a 100 first, it misreads the next response on the connection (its connection keeps
    // the first one's status line) and waits out its read timeout: so an empty body's request
    // gets its 100 at once. (A request with a body gets it from the handler that reads it; one
    // refused before that is answered on a connection then closed.)
    if (parser.is_done() && beast::iequals(header[http::field::expect], "100-continue")) {
      static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      stream.expires_after(app.settings.client_timeout);
      auto [cec, sent] = co_await net::async_write(stream, net::buffer(go_on), as_values);
      if (cec) {
        app.gate.leave();
        co_return;
      }
    }
    RequestBody body(stream, buffer, parser, app.settings.client_timeout);
    std::vector<Header> fields;
    for (const auto& field : header) fields.push_back({field.name_string(), field.value()});

    EarlyReply early(stream, app.settings.client_timeout, header.version(),
                     header.keep_alive() && !app.gate.closed());
    auto answered = co_await answer(app, s3, header, fields, body, request_id, early);
    ObjectStream object =
        answered ? std::move(*answered)
                 : ObjectStream{s3_error_reply(answered.error(),
                                               header.target().substr(0, header.target().find('?')),
                                               request_id),
                                nullptr, 0};
    const bool keep_alive = header.keep_alive() && body.done() && !app.gate.closed();
    bool ok = true;
    if (early.started()) {  // the handler sent the whole reply itself
      ok = !early.failed();
    } else if (object.download) {
      object.head.version(header.version());
      object.head.keep_alive(keep_alive);
      write_head(object.head, head_text);
      stream.expires_after(app.settings.client_timeout);
      auto [wec, written] = co_await net::async_write(stream, net::buffer(head_text), as_values);
      ok = !wec && co_await relay_object(stream, object, app.settings.client_timeout);
    } else {
      frame(object.head, head, header.version(), keep_alive);
      write_head(object.head, head_text);
      const std::array<net::const_buffer, 2> wire{net::buffer(head_text),
                                                  net::buffer(object.head.body())};
      stream.expires_after(app.settings.client_timeout);
      auto [wec, written] = co_await net::async_write(stream, wire, as_values);
      ok = !wec;
    }
    app.metrics.record(header.method_string(), object.head.result_int(),
                       std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - started),
                       body.received());
    app.gate.leave();
    if (!ok) co_return;
    if (buffer.capacity() > small_buffer) buffer.shrink_to_fit();
    if (!keep_alive) {
      co_await linger_close(stream);
      co_return;
    }
  }
}

}  // namespace mkv
