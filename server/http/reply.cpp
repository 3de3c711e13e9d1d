// Replies to clients (see reply.h).
#include "reply.h"

namespace mkv {

Reply empty_reply(http::status status) { return Reply{status, 11}; }

Reply error_reply(const Error& error) {
  Reply reply{static_cast<http::status>(http_status(error.code)), 11};
  reply.set(http::field::content_type, "text/plain; charset=utf-8");
  if (error.code == errc::method_not_allowed) reply.set(http::field::allow, error.detail);
  reply.body() = message(error);
  reply.body() += '\n';  // so a terminal shows it on a line of its own
  return reply;
}

void frame(Reply& reply, bool head, unsigned version, bool keep_alive) {
  reply.version(version);
  reply.keep_alive(keep_alive);
  if (!head) {
    reply.prepare_payload();
  } else if (!reply.has_content_length()) {
    reply.content_length(reply.body().size());
    reply.body().clear();
  }
}

void write_head(const Reply& reply, std::string& out) {
  out.clear();
  out += "HTTP/";
  out += static_cast<char>('0' + reply.version() / 10);
  out += '.';
  out += static_cast<char>('0' + reply.version() % 10);
  out += ' ';
  out += std::to_string(reply.result_int());
  out += ' ';
  out += reply.reason();
  out += "\r\n";
  for (const auto& field : reply) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace mkv
