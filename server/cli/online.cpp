// Handing a job to the running `mkv serve` (see online.h).
#include "online.h"

#include "asio.h"
#include "progress_line.h"

#include "admin/admin_address.h"

#include "mkv/admin_request.h"

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <csignal>
#include <functional>
#include <fstream>
#include <iostream>
#include <string>

namespace mkv::cli {

namespace {

using tcp = net::ip::tcp;

// What the stream of one job has shown so far.
struct Shown {
  ProgressLine progress;
  std::string last_progress;
  bool summary_started = false;
  std::optional<int> exit;
};

// Shows one line of the job's stream.
void show_line(Shown& shown, std::string_view line) {
  const auto read = read_job_line(line);
  if (!read) {
    shown.progress.print(std::string(line) + '\n');
    return;
  }
  const auto& [kind, text] = *read;
  switch (kind) {
    case JobLine::note: shown.progress.print(std::string(text) + '\n'); break;
    case JobLine::progress:
      shown.last_progress = std::string(text);
      if (shown.progress.due()) shown.progress.show(text);
      break;
    case JobLine::summary:
      if (!shown.summary_started) {
        shown.summary_started = true;
        if (!shown.last_progress.empty()) shown.progress.finish(shown.last_progress);
      }
      shown.progress.print(std::string(text) + '\n');
      break;
    case JobLine::exit: shown.exit = text == "0" ? 0 : 1; break;
    case JobLine::out: std::cout << text << '\n' << std::flush; break;
  }
}

// Sends the job request on the connected socket and shows what comes back. Ctrl-C half-closes
// the connection (the server stops the job at a safe point); a second one leaves at once.
net::awaitable<int> exchange(tcp::socket& socket, std::string command, std::string host,
                             std::string target) {
  Shown shown;
  net::signal_set signals(socket.get_executor(), SIGINT);
  int interrupts = 0;
  bool finished = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int) {
        if (ec || finished) return;
        interrupts += 1;
        boost::system::error_code ignored;
        if (interrupts == 1) {
          shown.progress.print("\nmkv " + command +
                               ": asking the server to stop the job at a safe point (Ctrl-C "
                               "again to leave without waiting)\n");
          socket.shutdown(tcp::socket::shutdown_send, ignored);
          signals.async_wait(on_signal);
        } else {
          socket.close(ignored);
        }
      };
  signals.async_wait(on_signal);

  http::request<http::empty_body> request{http::verb::post, target, 11};
  request.set(http::field::host, host);
  request.set(http::field::user_agent, "mkv " + command);
  request.content_length(0);
  auto [hec, written] = co_await http::async_write(socket, request, as_values);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  if (!hec) {
    auto [ec, n] = co_await http::async_read_header(socket, buffer, parser, as_values);
    hec = ec;
  }
  if (hec) {
    finished = true;
    signals.cancel();
    shown.progress.print("mkv " + command + ": the server did not answer: " + hec.message() +
                         '\n');
    co_return interrupts > 1 ? 130 : 1;
  }
  const bool streamed = parser.get().result() == http::status::ok;
  std::string pending;  // a line not yet ended, or the whole body of a refusal
  std::array<char, 16 * 1024> piece;
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    auto [ec, n] = co_await http::async_read_some(socket, buffer, parser, as_values);
    const std::size_t got = piece.size() - parser.get().body().size;
    pending.append(piece.data(), got);
    if (streamed) {
      for (std::size_t end; (end = pending.find('\n')) != std::string::npos;) {
        show_line(shown, std::string_view(pending).substr(0, end));
        pending.erase(0, end + 1);
      }
    }
    if (ec && ec != http::error::need_buffer) break;
  }
  finished = true;
  signals.cancel();
  if (!streamed) {
    while (!pending.empty() && pending.back() == '\n') pending.pop_back();
    shown.progress.print("mkv " + command + ": the server refused the job: " + pending + '\n');
    co_return 1;
  }
  if (interrupts > 1) co_return 130;
  if (!shown.exit) {
    shown.progress.print("mkv " + command +
                         ": the connection to the server ended before the job's report\n");
    co_return 1;
  }
  co_return *shown.exit;
}

}  // namespace

std::optional<int> run_online(const std::string& db, std::string_view command,
                              const std::string& target) {
  const auto address = recorded_admin_address(db);
  if (!address) return std::nullopt;
  net::io_context io;
  tcp::socket socket(io);
  try {
    tcp::resolver resolver(io);
    net::connect(socket, resolver.resolve(address->first, address->second));
  } catch (const std::exception&) {
    return std::nullopt;  // a stale address: no server listens there any more
  }
  ProgressLine().print("mkv " + std::string(command) + ": `mkv serve` owns " + index_name(db) +
                       "; running the job inside it (admin " + address->first + ":" +
                       address->second + ")\n");
  int code = 1;
  net::co_spawn(io,
                exchange(socket, std::string(command), address->first + ":" + address->second,
                         target),
                [&code](std::exception_ptr failure, int result) {
                  if (!failure) code = result;
                });
  io.run();
  return code;
}

}  // namespace mkv::cli
