// mkv-load: the load generator of bench/http/run. Drives an mkv server and its ceilings (an
// nginx that answers every request with a fixed 302, and one nginx volume) with the same
// client code, prints each figure next to its ceiling with their ratio, and writes them as
// JSON. See docs/benchmarks.md for what each phase measures and why.
//
// Small values are count-driven: each phase requests N keys exactly once (a PUT must create,
// a DELETE must find) over C keep-alive connections spread across T threads, each thread with
// its own io_context. Connections are opened before the clock starts; a phase's rate is N over
// the time from its first request to its last response. Every response is checked: its status,
// and every byte of every GET body. Anything else counts as an error, never as a request done.
//
// Large values: PUTs and GETs of one big value at a time (MB/s), and one huge PUT to mkv while
// its resident memory is sampled (/proc/PID/status, peak from VmHWM after a reset).
//
// With --s3, the same phases through mkv's S3 listener, each request signed with SigV4
// (s3_sign.h): 1 KiB PutObject, GetObject and DeleteObject next to mkv's native PUT, GET and
// DELETE of the same round; 64 MiB PutObject and GetObject next to the direct nginx figures;
// and a huge PutObject and GetObject with mkv's memory sampled as for the huge PUT.
//
// Several mkv URLs (servers sharing one PostgreSQL index): each phase's connections go to them
// in turn, large values alternate between them, and the huge ones go to the first.
#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "s3_sign.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/utsname.h>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto as_values = net::experimental::as_tuple(net::use_awaitable);
constexpr std::uint64_t MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Settings

struct Settings {
  // http://host:port of each mkv serve; several share one index (PostgreSQL) and the load is
  // spread over them a connection at a time.
  std::vector<std::string> mkv;
  std::string direct;    // http://host:port of one nginx volume: the data-op ceiling
  std::string redirect;  // http://host:port of the fixed-302 nginx: the index-only ceiling
  std::vector<std::string> s3;  // http://host:port of each mkv's S3 listener; empty: no S3 phases
  std::optional<mkv_load::S3Key> s3_key;  // the key the S3 requests are signed with
  std::vector<std::string> volumes;  // mkv's volumes: where its redirects may point
  int mkv_pid = 0;       // the first mkv's, for the resident-memory figures; 0: not measured
  // The processes serving each of mkv, direct and redirect (nginx master and workers), whose
  // CPU time per request is reported; empty: not measured.
  std::map<std::string, std::vector<int>> pids;
  std::uint64_t keys = 10000;
  std::uint64_t value_size = 1024;
  unsigned read_passes = 1;  // a read phase requests every key this many times
  unsigned connections = 100;
  unsigned threads = 1;
  unsigned rounds = 3;
  std::uint64_t large_size = 64 * MiB;
  unsigned large_count = 2;  // large values per phase and round
  std::uint64_t huge_size = 1024 * MiB;
  std::string json_path;
  std::string only;       // comma-separated small and S3 figures to run (put,s3_get,...); "": all
  bool ceilings = true;   // false: skip the ceiling phases (for profiling mkv alone)
  std::vector<std::pair<std::string, std::string>> notes;  // --note key=value, into the JSON
  double wrk_redirect = 0;  // wrk's figures for the cross-check (0: not run)
  double wrk_mkv = 0;
};

// Returns the number in text with an optional KiB/MiB/GiB suffix (k, m, g), or nullopt.
std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc()) return std::nullopt;
  const std::string_view suffix(end, text.data() + text.size() - end);
  if (suffix.empty()) return n;
  if (suffix == "k" || suffix == "K" || suffix == "KiB") return n * 1024;
  if (suffix == "m" || suffix == "M" || suffix == "MiB") return n * MiB;
  if (suffix == "g" || suffix == "G" || suffix == "GiB") return n * 1024 * MiB;
  return std::nullopt;
}

// Appends the comma-separated items of text to out, leaving empty ones out.
void append_list(std::vector<std::string>& out, const std::string& text) {
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr
      << "mkv-load: " << why << "\n"
      << "usage: mkv-load --mkv URL[,URL...] --direct URL --redirect URL [--volume URL]...\n"
         "  [--mkv-pid PID]\n"
         "  [--keys N] [--read-passes N] [--value-size BYTES] [--connections N] [--threads N]\n"
         "  [--rounds N] [--large-size BYTES] [--large-count N] [--huge-size BYTES]\n"
         "  [--json FILE] [--note KEY=VALUE]... [--pids mkv|direct|redirect=PID,...]...\n"
         "  [--wrk-redirect RPS --wrk-mkv RPS] [--only FIGURE,...] [--ceilings no]\n"
         "  [--s3 URL[,URL...] --s3-key ACCESS_KEY_ID:SECRET [--s3-region REGION]]\n"
         "URLs are http://host:port; sizes take k/m/g suffixes (binary).\n"
         "Several --mkv (or --s3) URLs: servers sharing one index; each connection of a phase\n"
         "  goes to one of them in turn, large values alternate, the huge ones go to the first.\n"
         "FIGUREs: put get_follow get_index head delete s3_put s3_get s3_delete\n"
         "  s3_put_large s3_get_large s3_huge (S3 figures need --s3).\n";
  std::exit(2);
}

Settings parse_settings(int argc, char** argv) {
  Settings s;
  std::string s3_key;
  std::string s3_region = "us-east-1";
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage("missing value for " + std::string(flag));
    const std::string value = argv[++i];
    const auto number = [&]() -> std::uint64_t {
      auto n = parse_size(value);
      if (!n) usage("bad number for " + std::string(flag) + ": " + value);
      return *n;
    };
    if (flag == "--mkv") append_list(s.mkv, value);
    else if (flag == "--direct") s.direct = value;
    else if (flag == "--redirect") s.redirect = value;
    else if (flag == "--s3") append_list(s.s3, value);
    else if (flag == "--s3-key") s3_key = value;
    else if (flag == "--s3-region") s3_region = value;
    else if (flag == "--volume") s.volumes.push_back(value);
    else if (flag == "--mkv-pid") s.mkv_pid = static_cast<int>(number());
    else if (flag == "--keys") s.keys = number();
    else if (flag == "--value-size") s.value_size = number();
    else if (flag == "--read-passes") s.read_passes = static_cast<unsigned>(number());
    else if (flag == "--connections") s.connections = static_cast<unsigned>(number());
    else if (flag == "--threads") s.threads = static_cast<unsigned>(number());
    else if (flag == "--rounds") s.rounds = static_cast<unsigned>(number());
    else if (flag == "--large-size") s.large_size = number();
    else if (flag == "--large-count") s.large_count = static_cast<unsigned>(number());
    else if (flag == "--huge-size") s.huge_size = number();
    else if (flag == "--json") s.json_path = value;
    else if (flag == "--only") s.only = "," + value + ",";
    else if (flag == "--ceilings") s.ceilings = value != "no";
    else if (flag == "--wrk-redirect") s.wrk_redirect = std::stod(value);
    else if (flag == "--wrk-mkv") s.wrk_mkv = std::stod(value);
    else if (flag == "--pids") {
      // ROLE=PID,PID,...
      const auto eq = value.find('=');
      if (eq == std::string::npos) usage("--pids wants ROLE=PID,PID,...");
      auto& list = s.pids[value.substr(0, eq)];
      std::istringstream in(value.substr(eq + 1));
      for (std::string pid; std::getline(in, pid, ',');) list.push_back(std::stoi(pid));
    } else if (flag == "--note") {
      const auto eq = value.find('=');
      if (eq == std::string::npos) usage("--note wants KEY=VALUE");
      s.notes.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else {
      usage("unknown option " + std::string(flag));
    }
  }
  if (s.mkv.empty() || s.direct.empty() || s.redirect.empty()) {
    usage("--mkv, --direct and --redirect are required");
  }
  if (s.connections == 0 || s.threads == 0 || s.rounds == 0 || s.keys == 0 || s.read_passes == 0) {
    usage("--connections, --threads, --rounds, --keys and --read-passes must be positive");
  }
  if (!s.s3.empty()) {
    s.s3_key = mkv_load::parse_s3_key(s3_key, s3_region);
    if (!s.s3_key) usage("--s3 needs --s3-key ACCESS_KEY_ID:SECRET");
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Servers and values

// A server the generator talks to, resolved once.
struct Server {
  std::string authority;  // "host:port": the Host header, and how a redirect names it
  tcp::endpoint endpoint;
  // The processes that serve it, for CPU accounting (may be empty); for servers that share the
  // load, those of all of them, kept with the first.
  std::vector<int> pids;
};

// Returns a span of the one server s.
std::span<const Server> one(const Server& s) { return {&s, 1}; }

// Returns the server at url (http://host:port, no path); exits if it does not resolve.
Server resolve_server(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.rfind(scheme, 0) != 0) usage("not an http:// URL: " + url);
  std::string authority = url.substr(scheme.size());
  while (!authority.empty() && authority.back() == '/') authority.pop_back();
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.find('/') != std::string::npos) {
    usage("want http://host:port: " + url);
  }
  net::io_context io;
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto found = resolver.resolve(authority.substr(0, colon), authority.substr(colon + 1), ec);
  if (ec || found.empty()) usage("cannot resolve " + url + ": " + ec.message());
  return Server{authority, found.begin()->endpoint(), {}};
}

// The bytes of the values the benchmark stores: value i is a fixed pseudo-random pattern
// repeated, with its first 16 bytes replaced by i in decimal, so a GET that returns the bytes
// of another key is caught.
class Values {
 public:
  Values(std::uint64_t size, std::size_t pattern_size) : size_(size), pattern_(pattern_size) {
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (auto& c : pattern_) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>(x);
    }
  }

  std::uint64_t size() const { return size_; }

  // Copies bytes [offset, offset + out.size()) of value i into out.
  void copy(std::uint64_t i, std::uint64_t offset, std::span<char> out) const {
    for (std::size_t done = 0; done < out.size();) {
      const std::size_t at = (offset + done) % pattern_.size();
      const std::size_t n = std::min(out.size() - done, pattern_.size() - at);
      std::memcpy(out.data() + done, pattern_.data() + at, n);
      done += n;
    }
    overlay_label(i, offset, out);
  }

  // Returns whether bytes are bytes [offset, offset + bytes.size()) of value i.
  bool equal(std::uint64_t i, std::uint64_t offset, std::string_view bytes) const {
    if (offset + bytes.size() > size_) return false;
    const auto label = label_of(i);
    std::size_t done = 0;
    // The labelled head, byte by byte; the rest against the pattern, a run at a time.
    for (; done < bytes.size() && offset + done < label.size(); ++done) {
      if (bytes[done] != label[offset + done]) return false;
    }
    while (done < bytes.size()) {
      const std::size_t at = (offset + done) % pattern_.size();
      const std::size_t n = std::min(bytes.size() - done, pattern_.size() - at);
      if (std::memcmp(bytes.data() + done, pattern_.data() + at, n) != 0) return false;
      done += n;
    }
    return true;
  }

 private:
  static std::array<char, 16> label_of(std::uint64_t i) {
    std::array<char, 16> label;
    label.fill('0');
    char digits[20];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, i);
    const std::size_t n = std::min<std::size_t>(end - digits, 15);
    std::memcpy(label.data() + 15 - n, end - n, n);
    label[15] = '\n';
    return label;
  }

  void overlay_label(std::uint64_t i, std::uint64_t offset, std::span<char> out) const {
    const auto label = label_of(i);
    for (std::uint64_t at = offset; at < label.size() && at - offset < out.size(); ++at) {
      out[at - offset] = label[at];
    }
  }

  std::uint64_t size_;
  std::vector<char> pattern_;
};

// Appends the request target of key i under prefix ("/bench/r1/00000042") to out.
void append_target(std::string& out, std::string_view prefix, std::uint64_t i) {
  out += '/';
  out += prefix;
  char digits[20];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, i);
  for (auto n = end - digits; n < 8; ++n) out += '0';
  out.append(digits, end);
}

// ---------------------------------------------------------------------------------------------
// Connections

// One keep-alive client connection; empty until first used, and again after a failure.
struct Conn {
  const Server* server = nullptr;
  std::optional<tcp::socket> socket;
  beast::flat_buffer buffer;
};

// Closes conn so that its next use reconnects.
void drop(Conn& conn) {
  conn.socket.reset();
  conn.buffer.clear();
}

// Connects conn if it is not connected; returns an error text, or "" on success.
net::awaitable<std::string> ensure_connected(Conn& conn) {
  if (conn.socket) co_return std::string();
  conn.buffer.clear();
  conn.socket.emplace(co_await net::this_coro::executor);
  auto [ec] = co_await conn.socket->async_connect(conn.server->endpoint, as_values);
  if (ec) {
    conn.socket.reset();
    co_return "connect " + conn.server->authority + ": " + ec.message();
  }
  conn.socket->set_option(tcp::no_delay(true), ec);
  co_return std::string();
}

// Sends a request head and body on conn and reads the whole response into parser. Returns an
// error text, or "" when a response arrived. Drops the connection after a failure, or when the
// server said it would close.
net::awaitable<std::string> exchange(Conn& conn, const std::string& head, std::string_view body,
                                     http::response_parser<http::string_body>& parser) {
  if (auto error = co_await ensure_connected(conn); !error.empty()) co_return error;
  const std::array<net::const_buffer, 2> out{net::buffer(head), net::buffer(body)};
  auto [wec, written] = co_await net::async_write(*conn.socket, out, as_values);
  if (wec) {
    drop(conn);
    co_return "write to " + conn.server->authority + ": " + wec.message();
  }
  auto [rec, read] = co_await http::async_read(*conn.socket, conn.buffer, parser, as_values);
  if (rec) {
    drop(conn);
    co_return "read from " + conn.server->authority + ": " + rec.message();
  }
  if (!parser.get().keep_alive()) drop(conn);
  co_return std::string();
}

// Appends a request head without a body.
void append_head(std::string& out, std::string_view method, std::string_view target,
                 const Server& server) {
  out += method;
  out += ' ';
  out += target;
  out += " HTTP/1.1\r\nHost: ";
  out += server.authority;
  out += "\r\n";
}

// Splits an absolute http:// Location into its authority and its target.
std::optional<std::pair<std::string_view, std::string_view>> split_location(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) return std::nullopt;
  url.remove_prefix(scheme.size());
  const auto slash = url.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return std::pair{url.substr(0, slash), url.substr(slash)};
}

// ---------------------------------------------------------------------------------------------
// Small-value phases

enum class Op {
  put,           // PUT value i; expect 201 (or 204 from nginx)
  get_follow,    // GET; expect 302, then GET the Location; expect 200 and the bytes of value i
  get_body,      // GET; expect 200 and the bytes of value i
  get_redirect,  // GET; expect 302 and do not follow it
  head,          // HEAD; expect `expect` (200 with Content-Length = value size from mkv)
  remove,        // DELETE; expect 204
};

// One phase: count requests of one kind over keys prefix+0 .. prefix+keys-1 (each once per
// pass; writes make one pass); each client's connection names its server.
struct SmallPhase {
  Op op;
  std::string prefix;
  std::uint64_t keys;
  std::uint64_t count;
  unsigned expect;  // the status expected of server (302 from the fixed-302 nginx for HEAD)
  const Values* values;
  const std::vector<Server>* others;  // servers a redirect may name
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> completed{0};  // for the stall watchdog
};

// What one connection of a phase saw.
struct Tally {
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  std::vector<std::uint32_t> latency_us;

  void fail(std::string what) {
    ++errors;
    if (first_error.empty()) first_error = std::move(what);
  }
};

// A client connection of a phase: its connection to the phase's server, and those a
// redirect led to (one per server, opened on first use); its signer for an S3 phase.
struct Client {
  Conn primary;
  std::vector<Conn> followed;
  Tally tally;
  std::optional<mkv_load::S3Signer> signer;
};

// Appends the S3 signature of a request to head when client signs (an S3 phase), signed now.
void sign_if_s3(Client& client, std::string& head, std::string_view method, std::string_view target,
                const Server& server, std::string_view payload_hash) {
  if (!client.signer) return;
  client.signer->append_headers(head, method, target, server.authority, payload_hash,
                                mkv_load::amz_date_now());
}

// Returns an error text if a response is not the expected status, else "".
std::string check_status(const http::response<http::string_body>& response, unsigned expect,
                         std::string_view what) {
  const unsigned status = response.result_int();
  if (status == expect) return {};
  return std::string(what) + ": status " + std::to_string(status) + " (want " +
         std::to_string(expect) + ") " + response.body().substr(0, 200);
}

// Carries out request i of phase on client; returns an error text, or "" if all was as
// expected. head and body are scratch buffers the caller keeps between requests. A client
// with a signer makes S3 requests of put (PutObject: expect 200 and an ETag; the payload's
// SHA-256 is signed, as the AWS CLI signs over plain HTTP), get_body and remove.
net::awaitable<std::string> one_request(SmallPhase& phase, Client& client, std::uint64_t i,
                                        std::string& head, std::string& body) {
  const Server& server = *client.primary.server;
  std::string target;
  append_target(target, phase.prefix, i);
  head.clear();
  body.clear();
  http::response_parser<http::string_body> parser;
  std::string error;
  switch (phase.op) {
    case Op::put: {
      body.resize(phase.values->size());
      phase.values->copy(i, 0, body);
      append_head(head, "PUT", target, server);
      head += "Content-Length: ";
      head += std::to_string(phase.values->size());
      head += "\r\n";
      if (client.signer) sign_if_s3(client, head, "PUT", target, server, mkv::sha256_hex(body));
      head += "\r\n";
      error = co_await exchange(client.primary, head, body, parser);
      if (!error.empty()) co_return error;
      if (client.signer) {
        if (auto e = check_status(parser.get(), 200, "PutObject " + target); !e.empty()) {
          co_return e;
        }
        if (parser.get()[http::field::etag].empty()) co_return "PutObject " + target + ": no ETag";
        co_return std::string();
      }
      const unsigned status = parser.get().result_int();
      if (status == 201 || status == 204) co_return std::string();
      co_return check_status(parser.get(), 201, "PUT " + target);
    }
    case Op::remove:
      append_head(head, "DELETE", target, server);
      sign_if_s3(client, head, "DELETE", target, server, mkv::empty_sha256);
      head += "\r\n";
      error = co_await exchange(client.primary, head, {}, parser);
      if (!error.empty()) co_return error;
      co_return check_status(parser.get(), phase.expect, "DELETE " + target);
    case Op::head:
      append_head(head, "HEAD", target, server);
      head += "\r\n";
      parser.skip(true);
      error = co_await exchange(client.primary, head, {}, parser);
      if (!error.empty()) co_return error;
      if (auto e = check_status(parser.get(), phase.expect, "HEAD " + target); !e.empty()) {
        co_return e;
      }
      if (phase.expect == 200 && parser.content_length() != phase.values->size()) {
        co_return "HEAD " + target + ": wrong Content-Length";
      }
      co_return std::string();
    case Op::get_redirect:
      append_head(head, "GET", target, server);
      head += "\r\n";
      error = co_await exchange(client.primary, head, {}, parser);
      if (!error.empty()) co_return error;
      co_return check_status(parser.get(), 302, "GET " + target);
    case Op::get_body:
      append_head(head, "GET", target, server);
      sign_if_s3(client, head, "GET", target, server, mkv::empty_sha256);
      head += "\r\n";
      error = co_await exchange(client.primary, head, {}, parser);
      if (!error.empty()) co_return error;
      if (auto e = check_status(parser.get(), 200, "GET " + target); !e.empty()) co_return e;
      if (parser.get().body().size() != phase.values->size() ||
          !phase.values->equal(i, 0, parser.get().body())) {
        co_return "GET " + target + ": wrong bytes";
      }
      co_return std::string();
    case Op::get_follow: {
      append_head(head, "GET", target, server);
      head += "\r\n";
      error = co_await exchange(client.primary, head, {}, parser);
      if (!error.empty()) co_return error;
      if (auto e = check_status(parser.get(), 302, "GET " + target); !e.empty()) co_return e;
      const auto location = split_location(parser.get()[http::field::location]);
      if (!location) co_return "GET " + target + ": unusable Location";
      Conn* volume = nullptr;
      for (auto& c : client.followed) {
        if (c.server->authority == location->first) volume = &c;
      }
      if (!volume) {
        for (const auto& other : *phase.others) {
          if (other.authority == location->first) {
            client.followed.emplace_back().server = &other;
            volume = &client.followed.back();
          }
        }
      }
      if (!volume) co_return "GET " + target + ": redirect to unknown " + std::string(location->first);
      const std::string followed_target(location->second);
      head.clear();
      append_head(head, "GET", followed_target, *volume->server);
      head += "\r\n";
      http::response_parser<http::string_body> blob;
      error = co_await exchange(*volume, head, {}, blob);
      if (!error.empty()) co_return error;
      if (auto e = check_status(blob.get(), 200, "GET " + followed_target); !e.empty()) co_return e;
      if (blob.get().body().size() != phase.values->size() ||
          !phase.values->equal(i, 0, blob.get().body())) {
        co_return "GET " + followed_target + ": wrong bytes";
      }
      co_return std::string();
    }
  }
  co_return std::string("unknown operation");
}

// Connects a client's primary connection before the clock starts.
net::awaitable<void> connect_client(Client* client) {
  if (auto error = co_await ensure_connected(client->primary); !error.empty()) {
    client->tally.fail(error);
  }
}

// Takes request numbers from the phase until none are left, one request at a time.
net::awaitable<void> drive_client(SmallPhase* phase, Client* client) {
  std::string head;
  std::string body;
  for (;;) {
    const std::uint64_t n = phase->next.fetch_add(1, std::memory_order_relaxed);
    if (n >= phase->count) co_return;
    const std::uint64_t i = n % phase->keys;
    const auto start = Clock::now();
    std::string error = co_await one_request(*phase, *client, i, head, body);
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    if (error.empty()) {
      ++client->tally.ok;
      client->tally.latency_us.push_back(static_cast<std::uint32_t>(took.count()));
    } else {
      client->tally.fail(std::move(error));
    }
    phase->completed.fetch_add(1, std::memory_order_relaxed);
  }
}

// The CPU time this process used so far, in seconds.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The machine's busy and total CPU time so far, in clock ticks (from /proc/stat).
std::pair<double, double> machine_cpu_ticks() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  stat >> cpu;
  double total = 0;
  double idle = 0;
  for (int field = 0; field < 10; ++field) {
    double v = 0;
    if (!(stat >> v)) break;
    total += v;
    if (field == 3 || field == 4) idle += v;  // idle, iowait
  }
  return {total - idle, total};
}

// The CPU time the processes pids used so far, in seconds (from /proc/PID/stat).
double processes_cpu_seconds(const std::vector<int>& pids) {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double total = 0;
  for (int pid : pids) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int n = 3; fields >> field; ++n) {  // field 3 is the state
      if (n == 14) utime = std::stod(field);
      if (n == 15) {
        stime = std::stod(field);
        break;
      }
    }
    total += (utime + stime) / ticks;
  }
  return total;
}

// What a phase measured.
struct PhaseResult {
  std::string name;
  std::uint64_t requests = 0;  // answered as expected
  std::uint64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  double rate = 0;        // requests per second
  double p50_ms = 0;
  double p99_ms = 0;
  double client_cores = 0;  // CPU this generator used, in cores
  double machine_busy = 0;  // fraction of all cores busy during the phase
  double server_cpu_us = -1;  // CPU the server's processes used per request (-1: unknown)
};

// Runs body(io) for each of the settings' io_contexts on its own thread and waits for all
// of them, exiting the program if completed stops moving for 60 s (a hung server).
template <class Completed>
void run_threads(std::vector<std::unique_ptr<net::io_context>>& ios, const Completed& completed,
                 const std::string& what) {
  std::atomic<unsigned> finished{0};
  std::vector<std::thread> threads;
  for (auto& io : ios) {
    threads.emplace_back([&io, &finished] {
      io->restart();
      io->run();
      finished.fetch_add(1);
    });
  }
  auto last = completed();
  auto last_change = Clock::now();
  while (finished.load() < ios.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const auto now_completed = completed();
    if (now_completed != last) {
      last = now_completed;
      last_change = Clock::now();
    } else if (Clock::now() - last_change > std::chrono::seconds(60)) {
      std::cerr << "mkv-load: " << what << " made no progress for 60 s; giving up\n";
      std::_Exit(1);
    }
  }
  for (auto& t : threads) t.join();
}

// Runs one small-value phase; with s3, every request is signed with that key (an S3 phase).
// Connection c goes to servers[c % servers.size()], and every connection takes the next key
// as soon as it is done, so a key written through one server may be read through another.
PhaseResult run_small(const Settings& settings, const std::string& name, Op op,
                      std::span<const Server> servers, std::string prefix, unsigned expect,
                      const Values& values, const std::vector<Server>& others,
                      const mkv_load::S3Key* s3 = nullptr) {
  const bool read = op != Op::put && op != Op::remove;
  const std::uint64_t count = settings.keys * (read ? settings.read_passes : 1);
  SmallPhase phase{op, std::move(prefix), settings.keys, count, expect, &values, &others};
  std::vector<int> pids;
  for (const auto& server : servers) pids.insert(pids.end(), server.pids.begin(), server.pids.end());
  std::vector<std::unique_ptr<net::io_context>> ios;
  for (unsigned t = 0; t < settings.threads; ++t) ios.push_back(std::make_unique<net::io_context>(1));
  std::vector<std::unique_ptr<Client>> clients;
  for (unsigned c = 0; c < settings.connections; ++c) {
    clients.push_back(std::make_unique<Client>());
    clients.back()->primary.server = &servers[c % servers.size()];
    if (s3) clients.back()->signer.emplace(*s3);
    clients.back()->tally.latency_us.reserve(count / settings.connections + 16);
    net::co_spawn(*ios[c % ios.size()], connect_client(clients.back().get()), net::detached);
  }
  run_threads(ios, [] { return 0; }, name + " (connecting)");

  for (unsigned c = 0; c < settings.connections; ++c) {
    net::co_spawn(*ios[c % ios.size()], drive_client(&phase, clients[c].get()), net::detached);
  }
  const double cpu_before = process_cpu_seconds();
  const double server_before = processes_cpu_seconds(pids);
  const auto machine_before = machine_cpu_ticks();
  const auto start = Clock::now();
  run_threads(ios, [&] { return phase.completed.load(std::memory_order_relaxed); }, name);
  const auto end = Clock::now();
  const double seconds = std::chrono::duration<double>(end - start).count();
  const double cpu = process_cpu_seconds() - cpu_before;
  // CLOCK_MONOTONIC seconds, for perf report --time (bench/http/run --perf records with -k 1).
  const auto monotonic = [](Clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  };
  std::fprintf(stderr, "  %-16s %9.0f req/s  (monotonic %.6f,%.6f)\n", name.c_str(),
               (settings.keys ? phase.completed.load() / seconds : 0), monotonic(start), monotonic(end));
  const double server_cpu = processes_cpu_seconds(pids) - server_before;
  const auto machine_after = machine_cpu_ticks();

  PhaseResult result;
  result.name = name;
  result.seconds = seconds;
  std::vector<std::uint32_t> latencies;
  for (const auto& client : clients) {
    result.requests += client->tally.ok;
    result.errors += client->tally.errors;
    if (result.first_error.empty()) result.first_error = client->tally.first_error;
    latencies.insert(latencies.end(), client->tally.latency_us.begin(),
                     client->tally.latency_us.end());
  }
  result.rate = result.requests / seconds;
  if (!latencies.empty()) {
    const auto percentile = [&](double p) {
      auto at = latencies.begin() + static_cast<std::ptrdiff_t>(p * (latencies.size() - 1));
      std::nth_element(latencies.begin(), at, latencies.end());
      return *at / 1000.0;
    };
    result.p50_ms = percentile(0.50);
    result.p99_ms = percentile(0.99);
  }
  result.client_cores = cpu / seconds;
  if (!pids.empty() && result.requests > 0) result.server_cpu_us = server_cpu / result.requests * 1e6;
  const double total_ticks = machine_after.second - machine_before.second;
  if (total_ticks > 0) result.machine_busy = (machine_after.first - machine_before.first) / total_ticks;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Large values

constexpr std::size_t piece_size = MiB;  // what the generator writes or reads at once

// PUTs value i of values at target, a piece at a time; returns an error text or "". With a
// signer, a PutObject (expect 200) of an unsigned payload: hashing it would make the
// generator, not mkv, the bottleneck.
net::awaitable<std::string> put_large(Conn* conn, std::string target, const Values* values,
                                      std::uint64_t i, mkv_load::S3Signer* signer) {
  if (auto error = co_await ensure_connected(*conn); !error.empty()) co_return error;
  std::string head;
  append_head(head, "PUT", target, *conn->server);
  head += "Content-Length: " + std::to_string(values->size()) + "\r\n";
  if (signer) {
    signer->append_headers(head, "PUT", target, conn->server->authority, mkv_load::unsigned_payload,
                           mkv_load::amz_date_now());
  }
  head += "\r\n";
  auto [hec, hn] = co_await net::async_write(*conn->socket, net::buffer(head), as_values);
  if (hec) {
    drop(*conn);
    co_return "write: " + hec.message();
  }
  std::vector<char> piece(piece_size);
  for (std::uint64_t offset = 0; offset < values->size(); offset += piece.size()) {
    const std::size_t n = std::min<std::uint64_t>(piece.size(), values->size() - offset);
    values->copy(i, offset, std::span(piece.data(), n));
    auto [ec, written] = co_await net::async_write(*conn->socket, net::buffer(piece.data(), n), as_values);
    if (ec) {
      drop(*conn);
      co_return "write: " + ec.message();
    }
  }
  http::response_parser<http::string_body> parser;
  auto [rec, read] = co_await http::async_read(*conn->socket, conn->buffer, parser, as_values);
  if (rec) {
    drop(*conn);
    co_return "read: " + rec.message();
  }
  if (!parser.get().keep_alive()) drop(*conn);
  if (signer) co_return check_status(parser.get(), 200, "PutObject " + target);
  const unsigned status = parser.get().result_int();
  if (status != 201 && status != 204) co_return check_status(parser.get(), 201, "PUT " + target);
  co_return std::string();
}

// GETs target and checks its body is value i of values, reading a piece at a time; follows
// one redirect to a server among others. With a signer, a GetObject (signed; the body comes
// straight from mkv). Returns an error text or "".
net::awaitable<std::string> get_large(Conn* conn, std::vector<Conn>* followed, std::string target,
                                      const Values* values, std::uint64_t i,
                                      mkv_load::S3Signer* signer) {
  Conn* from = conn;
  for (int hop = 0; hop < 2; ++hop) {
    if (auto error = co_await ensure_connected(*from); !error.empty()) co_return error;
    std::string head;
    append_head(head, "GET", target, *from->server);
    if (signer && hop == 0) {
      signer->append_headers(head, "GET", target, from->server->authority, mkv::empty_sha256,
                             mkv_load::amz_date_now());
    }
    head += "\r\n";
    auto [wec, wn] = co_await net::async_write(*from->socket, net::buffer(head), as_values);
    if (wec) {
      drop(*from);
      co_return "write: " + wec.message();
    }
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    auto [hec, hn] = co_await http::async_read_header(*from->socket, from->buffer, parser, as_values);
    if (hec) {
      drop(*from);
      co_return "read: " + hec.message();
    }
    const unsigned status = parser.get().result_int();
    std::vector<char> piece(piece_size);
    std::uint64_t offset = 0;
    bool same = true;
    while (!parser.is_done()) {
      parser.get().body().data = piece.data();
      parser.get().body().size = piece.size();
      auto [ec, n] = co_await http::async_read(*from->socket, from->buffer, parser, as_values);
      if (ec && ec != http::error::need_buffer) {
        drop(*from);
        co_return "read: " + ec.message();
      }
      const std::size_t got = piece.size() - parser.get().body().size;
      if (status == 200) same = same && values->equal(i, offset, std::string_view(piece.data(), got));
      offset += got;
    }
    if (!parser.get().keep_alive()) drop(*from);
    if (status == 302 && hop == 0) {
      const auto location = split_location(parser.get()[http::field::location]);
      if (!location) co_return "GET " + target + ": unusable Location";
      from = nullptr;
      for (auto& c : *followed) {
        if (c.server->authority == location->first) from = &c;
      }
      if (!from) co_return "GET " + target + ": redirect to unknown " + std::string(location->first);
      target = std::string(location->second);
      continue;
    }
    if (status != 200) co_return "GET " + target + ": status " + std::to_string(status);
    if (offset != values->size() || !same) co_return "GET " + target + ": wrong bytes";
    co_return std::string();
  }
  co_return "GET " + target + ": redirected twice";
}

// Runs one coroutine on io in this thread; returns its error text. (Connections live as long as
// the io_context they were opened on, so a phase keeps one io_context for all its requests.)
template <class MakeOp>
std::string run_one(net::io_context& io, MakeOp make_op) {
  io.restart();
  std::string error = "did not finish";
  net::co_spawn(io, make_op(), [&](std::exception_ptr failure, std::string outcome) {
    error = failure ? std::string("exception") : std::move(outcome);
  });
  io.run();
  return error;
}

// What a large-value phase measured.
struct LargeResult {
  std::string name;
  std::uint64_t bytes = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  double mb_per_s = 0;  // 10^6 bytes per second
};

// PUTs (get = false) or GETs values.size()-byte values 0 .. count-1 under prefix, one at a
// time, value i on one connection to servers[i % servers.size()] (plus those a redirect leads
// to); with s3, as signed PutObjects or GetObjects.
LargeResult run_large(const std::string& name, std::span<const Server> servers,
                      const std::string& prefix, unsigned count, const Values& values, bool get,
                      const std::vector<Server>& others, const mkv_load::S3Key* s3 = nullptr) {
  LargeResult result;
  result.name = name;
  std::optional<mkv_load::S3Signer> signer;
  if (s3) signer.emplace(*s3);
  mkv_load::S3Signer* sign = signer ? &*signer : nullptr;
  net::io_context io(1);
  std::vector<Conn> conns(servers.size());
  for (std::size_t s = 0; s < servers.size(); ++s) conns[s].server = &servers[s];
  std::vector<Conn> followed(others.size());
  for (std::size_t v = 0; v < others.size(); ++v) followed[v].server = &others[v];
  const auto start = Clock::now();
  for (unsigned i = 0; i < count; ++i) {
    std::string target;
    append_target(target, prefix, i);
    Conn& conn = conns[i % conns.size()];
    std::string error =
        get ? run_one(io, [&] { return get_large(&conn, &followed, target, &values, i, sign); })
            : run_one(io, [&] { return put_large(&conn, target, &values, i, sign); });
    if (error.empty()) {
      result.bytes += values.size();
    } else {
      ++result.errors;
      if (result.first_error.empty()) result.first_error = error;
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.mb_per_s = result.bytes / result.seconds / 1e6;
  return result;
}

// DELETEs target on conn; returns an error text or "".
net::awaitable<std::string> delete_one(Conn* conn, std::string target) {
  std::string head;
  append_head(head, "DELETE", target, *conn->server);
  head += "\r\n";
  http::response_parser<http::string_body> parser;
  std::string error = co_await exchange(*conn, head, {}, parser);
  if (!error.empty()) co_return error;
  co_return check_status(parser.get(), 204, "DELETE " + target);
}

// DELETEs keys prefix+0 .. prefix+count-1 one at a time; returns how many failed.
std::uint64_t remove_keys(const Server& server, const std::string& prefix, unsigned count) {
  net::io_context io(1);
  Conn conn;
  conn.server = &server;
  std::uint64_t failed = 0;
  for (unsigned i = 0; i < count; ++i) {
    std::string target;
    append_target(target, prefix, i);
    const std::string error = run_one(io, [&] { return delete_one(&conn, target); });
    if (!error.empty()) ++failed;
  }
  return failed;
}

// Returns a "Vm...:" figure of /proc/pid/status in bytes, or 0.
std::uint64_t proc_status_bytes(int pid, std::string_view field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) {
      std::istringstream rest(line.substr(field.size()));
      std::uint64_t kib = 0;
      rest >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

// What a huge PUT or GET measured.
struct HugeResult {
  LargeResult op;
  std::uint64_t rss_before = 0;      // VmRSS just before the request
  std::uint64_t rss_peak = 0;        // VmHWM after the request (reset just before it)
  std::uint64_t rss_max_sampled = 0; // largest VmRSS seen while it ran
  bool hwm_reset = false;            // whether the VmHWM reset worked (else peak is sampled)
};

// PUTs (get = false) or GETs one huge value at prefix on server (mkv's native or S3 port, s3
// then the key to sign with) while sampling mkv's resident memory. Leaves the value stored.
HugeResult run_huge(const Settings& settings, const std::string& name, const Server& server,
                    const std::string& prefix, const Values& values, bool get,
                    const mkv_load::S3Key* s3 = nullptr) {
  HugeResult result;
  const int pid = settings.mkv_pid;
  if (pid > 0) {
    std::ofstream clear("/proc/" + std::to_string(pid) + "/clear_refs");
    clear << "5";  // resets VmHWM to the current VmRSS
    clear.flush();
    result.hwm_reset = static_cast<bool>(clear);
    result.rss_before = proc_status_bytes(pid, "VmRSS:");
  }
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (pid > 0 && !done.load()) {
      result.rss_max_sampled = std::max(result.rss_max_sampled, proc_status_bytes(pid, "VmRSS:"));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  result.op = run_large(name, one(server), prefix, 1, values, get, {}, s3);
  done = true;
  sampler.join();
  if (pid > 0) {
    result.rss_peak = result.hwm_reset ? proc_status_bytes(pid, "VmHWM:") : result.rss_max_sampled;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One figure compared with its ceiling, over the rounds.
struct Comparison {
  std::string key;    // JSON name
  std::string label;  // printed name
  std::string ceiling_label;
  std::optional<double> target;  // the ratio the issue asks for, if any
  std::vector<PhaseResult> mkv;
  std::vector<PhaseResult> ceiling;
};

json::object phase_json(const std::vector<PhaseResult>& rounds, const std::string& label) {
  json::object out;
  std::vector<double> rates;
  json::array per_round;
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  std::vector<double> p50, p99, client, busy, server_cpu;
  for (const auto& r : rounds) {
    rates.push_back(r.rate);
    per_round.push_back(std::round(r.rate));
    requests += r.requests;
    errors += r.errors;
    if (first_error.empty()) first_error = r.first_error;
    p50.push_back(r.p50_ms);
    p99.push_back(r.p99_ms);
    client.push_back(r.client_cores);
    busy.push_back(r.machine_busy);
    if (r.server_cpu_us >= 0) server_cpu.push_back(r.server_cpu_us);
  }
  out["what"] = label;
  out["rps"] = std::round(median(rates));
  out["rps_rounds"] = per_round;
  out["requests"] = requests;
  out["errors"] = errors;
  if (!first_error.empty()) out["first_error"] = first_error;
  out["p50_ms"] = std::round(median(p50) * 100) / 100;
  out["p99_ms"] = std::round(median(p99) * 100) / 100;
  out["client_cores"] = std::round(median(client) * 100) / 100;
  out["machine_busy"] = std::round(median(busy) * 100) / 100;
  if (!server_cpu.empty()) out["server_cpu_us_per_request"] = std::round(median(server_cpu) * 10) / 10;
  return out;
}

// The median over rounds of mkv's figure divided by its ceiling's in the same round.
double paired_ratio(const std::vector<double>& mkv, const std::vector<double>& ceiling) {
  std::vector<double> ratios;
  for (std::size_t r = 0; r < mkv.size() && r < ceiling.size(); ++r) {
    if (ceiling[r] > 0) ratios.push_back(mkv[r] / ceiling[r]);
  }
  return median(ratios);
}

double round3(double x) { return std::round(x * 1000) / 1000; }

std::string first_line_of(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "";
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

void print_row(const std::string& what, double mkv, const std::string& ceiling_label,
               double ceiling, double ratio, std::optional<double> target, std::uint64_t errors,
               const char* unit) {
  char target_text[16] = "";
  if (target) std::snprintf(target_text, sizeof target_text, ">= %.2f", *target);
  std::printf("%-22s %10.0f %-5s %-26s %10.0f %6.2f %8s %7llu\n", what.c_str(), mkv, unit,
              ceiling_label.c_str(), ceiling, ratio, target_text,
              static_cast<unsigned long long>(errors));
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse_settings(argc, argv);
  // mkv's servers (one, or several sharing one index); the processes of all of them are kept
  // with the first (see Server).
  std::vector<Server> mkv;
  for (const auto& url : settings.mkv) mkv.push_back(resolve_server(url));
  Server direct = resolve_server(settings.direct);
  Server redirect = resolve_server(settings.redirect);
  for (const auto& [role, pids] : settings.pids) {
    if (role == "mkv") mkv.front().pids = pids;
    else if (role == "direct") direct.pids = pids;
    else if (role == "redirect") redirect.pids = pids;
    else usage("--pids: unknown role " + role);
  }
  // Where mkv's redirects may point.
  std::vector<Server> volumes;
  for (const auto& url : settings.volumes) volumes.push_back(resolve_server(url));
  // mkv's S3 listeners: the same processes as mkv's.
  std::vector<Server> s3;
  for (const auto& url : settings.s3) s3.push_back(resolve_server(url));
  if (!s3.empty()) s3.front().pids = mkv.front().pids;
  const mkv_load::S3Key* s3_key = settings.s3_key ? &*settings.s3_key : nullptr;
  const Values small(settings.value_size, settings.value_size);
  const Values large(settings.large_size, MiB);
  const Values huge(settings.huge_size, MiB);

  std::vector<Comparison> table = {
      {"put", "PUT (r=2)", "nginx volume PUT", 0.4, {}, {}},
      {"get_follow", "GET, redirect followed", "nginx volume GET", std::nullopt, {}, {}},
      {"get_index", "GET index only (302)", "nginx fixed 302", 0.6, {}, {}},
      {"head", "HEAD", "nginx fixed 302 (HEAD)", std::nullopt, {}, {}},
      {"delete", "DELETE", "nginx volume DELETE", 0.35, {}, {}},
      // The S3 rows' reference is mkv's native figure of the same round, measured just before.
      {"s3_put", "S3 PutObject", "mkv native PUT", 0.8, {}, {}},
      {"s3_get", "S3 GetObject", "mkv native GET, followed", std::nullopt, {}, {}},
      {"s3_delete", "S3 DeleteObject", "mkv native DELETE", std::nullopt, {}, {}},
  };
  Comparison& put = table[0];
  Comparison& get_follow = table[1];
  Comparison& get_index = table[2];
  Comparison& head = table[3];
  Comparison& remove = table[4];
  Comparison& s3_put = table[5];
  Comparison& s3_get = table[6];
  Comparison& s3_delete = table[7];
  std::vector<LargeResult> large_put_mkv, large_put_direct, large_get_mkv, large_get_direct;
  std::vector<LargeResult> large_put_s3, large_get_s3;

  // --only skips figures, but keys are always stored first and removed last; S3 phases run
  // only with --s3.
  const auto wanted_key = [&](std::string_view key) {
    return settings.only.empty() ||
           settings.only.find("," + std::string(key) + ",") != std::string::npos;
  };
  const auto wanted = [&](const Comparison& c) { return wanted_key(c.key); };
  const bool s3_small = !s3.empty() && (wanted(s3_put) || wanted(s3_get) || wanted(s3_delete));
  const bool s3_large = !s3.empty() && (wanted_key("s3_put_large") || wanted_key("s3_get_large"));

  const std::vector<Server> no_others;
  for (unsigned round = 1; round <= settings.rounds; ++round) {
    const std::string r = std::to_string(round);
    const std::string mkv_prefix = "bench/r" + r + "/";
    const std::string direct_prefix = "direct/r" + r + "/";  // not mkv's keys on that volume
    const std::string s3_prefix = "bench-s3/r" + r + "/";    // bucket bench-s3, key r1/...
    std::fprintf(stderr, "round %u of %u\n", round, settings.rounds);
    // Each ceiling runs just before its figure, so both see the machine in the same state.
    const auto measure = [&](Comparison& c, bool always, const std::string& name, Op op,
                             std::span<const Server> servers, const std::string& prefix,
                             unsigned expect, const std::vector<Server>& others,
                             bool ceiling) -> std::optional<PhaseResult> {
      if (ceiling && !settings.ceilings) return std::nullopt;
      if (!wanted(c) && !always) return std::nullopt;
      auto result = run_small(settings, name, op, servers, prefix, expect, small, others);
      if (wanted(c)) (ceiling ? c.ceiling : c.mkv).push_back(result);
      return result;
    };
    // An S3 phase, compared with native, mkv's own figure measured just before it.
    const auto measure_s3 = [&](Comparison& c, bool always, const std::string& name, Op op,
                                unsigned expect, const std::optional<PhaseResult>& native) {
      if (!s3_small || (!wanted(c) && !always)) return;
      auto result = run_small(settings, name, op, s3, s3_prefix, expect, small, no_others, s3_key);
      if (wanted(c) && native) {
        c.mkv.push_back(result);
        c.ceiling.push_back(*native);
      }
    };
    measure(put, true, "nginx PUT", Op::put, one(direct), direct_prefix, 201, no_others, true);
    const auto native_put =
        measure(put, true, "mkv PUT", Op::put, mkv, mkv_prefix, 201, no_others, false);
    measure_s3(s3_put, true, "S3 PutObject", Op::put, 200, native_put);
    measure(get_follow, false, "nginx GET", Op::get_body, one(direct), direct_prefix, 200, no_others, true);
    const auto native_get = measure(get_follow, s3_small && wanted(s3_get), "mkv GET follow",
                                    Op::get_follow, mkv, mkv_prefix, 302, volumes, false);
    measure_s3(s3_get, false, "S3 GetObject", Op::get_body, 200, native_get);
    measure(get_index, false, "nginx 302", Op::get_redirect, one(redirect), mkv_prefix, 302, no_others, true);
    measure(get_index, false, "mkv GET 302", Op::get_redirect, mkv, mkv_prefix, 302, no_others, false);
    measure(head, false, "nginx 302 HEAD", Op::head, one(redirect), mkv_prefix, 302, no_others, true);
    measure(head, false, "mkv HEAD", Op::head, mkv, mkv_prefix, 200, no_others, false);
    measure(remove, true, "nginx DELETE", Op::remove, one(direct), direct_prefix, 204, no_others, true);
    const auto native_delete =
        measure(remove, true, "mkv DELETE", Op::remove, mkv, mkv_prefix, 204, no_others, false);
    measure_s3(s3_delete, true, "S3 DeleteObject", Op::remove, 204, native_delete);

    if (settings.large_count > 0) {
      const std::string large_mkv = "bench/large-r" + r + "/";
      const std::string large_direct = "direct/large-r" + r + "/";
      const std::string large_s3 = "bench-s3/large-r" + r + "/";
      const unsigned count = settings.large_count;
      large_put_direct.push_back(
          run_large("nginx PUT", one(direct), large_direct, count, large, false, no_others));
      large_put_mkv.push_back(run_large("mkv PUT", mkv, large_mkv, count, large, false, no_others));
      if (s3_large) {
        auto put_s3 =
            run_large("S3 PutObject", s3, large_s3, count, large, false, no_others, s3_key);
        if (wanted_key("s3_put_large")) large_put_s3.push_back(put_s3);
      }
      large_get_direct.push_back(
          run_large("nginx GET", one(direct), large_direct, count, large, true, no_others));
      large_get_mkv.push_back(run_large("mkv GET", mkv, large_mkv, count, large, true, volumes));
      if (s3_large && wanted_key("s3_get_large")) {
        large_get_s3.push_back(
            run_large("S3 GetObject", s3, large_s3, count, large, true, no_others, s3_key));
      }
      large_get_mkv.back().errors +=
          remove_keys(direct, large_direct, count) + remove_keys(mkv.front(), large_mkv, count);
      if (s3_large) {  // this round's S3 row (one of them is wanted)
        auto& row = large_get_s3.empty() ? large_put_s3.back() : large_get_s3.back();
        row.errors += remove_keys(mkv.front(), large_s3, count);
      }
    }
  }
  std::optional<HugeResult> huge_put, huge_s3_put, huge_s3_get;
  const auto huge_mib = static_cast<unsigned long long>(settings.huge_size / MiB);
  if (settings.huge_size > 0) {
    std::fprintf(stderr, "huge PUT of %llu MiB\n", huge_mib);
    huge_put = run_huge(settings, "mkv PUT (huge)", mkv.front(), "bench/huge/", huge, false);
    huge_put->op.errors += remove_keys(mkv.front(), "bench/huge/", 1);
  }
  if (settings.huge_size > 0 && !s3.empty() && wanted_key("s3_huge")) {
    std::fprintf(stderr, "huge PutObject and GetObject of %llu MiB\n", huge_mib);
    huge_s3_put =
        run_huge(settings, "S3 PutObject (huge)", s3.front(), "bench-s3/huge/", huge, false, s3_key);
    huge_s3_get =
        run_huge(settings, "S3 GetObject (huge)", s3.front(), "bench-s3/huge/", huge, true, s3_key);
    huge_s3_get->op.errors += remove_keys(mkv.front(), "bench-s3/huge/", 1);
  }

  // The report: one table on stdout, everything in JSON.
  std::uint64_t total_errors = 0;
  json::object doc;
  doc["benchmark"] = "bench/http/run";
  doc["date"] = utc_now();
  {
    utsname name{};
    uname(&name);
    json::object machine;
    machine["cpu"] = first_line_of("/proc/cpuinfo", "model name");
    machine["cores"] = std::thread::hardware_concurrency();
    machine["memory"] = first_line_of("/proc/meminfo", "MemTotal");
    machine["kernel"] = std::string(name.sysname) + " " + name.release;
    doc["machine"] = machine;
  }
  json::object config;
  config["mkv_servers"] = mkv.size();
  config["keys"] = settings.keys;
  config["read_passes"] = settings.read_passes;
  config["value_bytes"] = settings.value_size;
  config["connections"] = settings.connections;
  config["client_threads"] = settings.threads;
  config["rounds"] = settings.rounds;
  config["large_bytes"] = settings.large_size;
  config["large_per_round"] = settings.large_count;
  config["huge_bytes"] = settings.huge_size;
  for (const auto& [key, value] : settings.notes) config[key] = value;
  doc["config"] = config;

  std::printf("\n%-22s %16s %-26s %10s %6s %8s %7s\n", "figure", "mkv", "ceiling", "", "ratio",
              "target", "errors");
  json::object small_doc;
  for (const auto& row : table) {
    if (row.mkv.empty()) continue;
    std::vector<double> mkv_rates, ceiling_rates;
    std::uint64_t errors = 0;
    for (const auto& r : row.mkv) {
      mkv_rates.push_back(r.rate);
      errors += r.errors;
    }
    for (const auto& r : row.ceiling) {
      ceiling_rates.push_back(r.rate);
      errors += r.errors;
    }
    total_errors += errors;
    const double ratio = paired_ratio(mkv_rates, ceiling_rates);
    json::object entry;
    entry["mkv"] = phase_json(row.mkv, row.label);
    entry["ceiling"] = phase_json(row.ceiling, row.ceiling_label);
    entry["ratio"] = round3(ratio);
    if (row.target) {
      entry["target"] = *row.target;
      entry["meets_target"] = ratio >= *row.target;
    }
    small_doc[row.key] = entry;
    print_row(row.label, median(mkv_rates), row.ceiling_label, median(ceiling_rates), ratio,
              row.target, errors, "req/s");
    const auto detail = [](const json::object& phase, const char* key) {
      const auto* v = phase.if_contains(key);
      return v ? v->to_number<double>() : -1.0;
    };
    const auto& m = entry["mkv"].as_object();
    const auto& c = entry["ceiling"].as_object();
    std::printf("%22s server CPU/request %.1f vs %.1f us; client %.2f vs %.2f cores; machine busy "
                "%.0f%% vs %.0f%%\n",
                "", detail(m, "server_cpu_us_per_request"), detail(c, "server_cpu_us_per_request"),
                detail(m, "client_cores"), detail(c, "client_cores"), 100 * detail(m, "machine_busy"),
                100 * detail(c, "machine_busy"));
    for (const auto* phases : {&row.mkv, &row.ceiling}) {
      for (const auto& r : *phases) {
        if (!r.first_error.empty()) std::printf("    %s: %s\n", r.name.c_str(), r.first_error.c_str());
      }
    }
  }
  doc["small"] = small_doc;

  if (!large_put_mkv.empty()) {
    json::object large_doc;
    const auto add = [&](const std::string& key, const std::string& label,
                         const std::vector<LargeResult>& mkv_runs,
                         const std::vector<LargeResult>& direct_runs, std::optional<double> target) {
      std::vector<double> m, d;
      std::uint64_t errors = 0;
      std::string first_error;
      for (const auto& r : mkv_runs) {
        m.push_back(r.mb_per_s);
        errors += r.errors;
        if (first_error.empty()) first_error = r.first_error;
      }
      for (const auto& r : direct_runs) {
        d.push_back(r.mb_per_s);
        errors += r.errors;
        if (first_error.empty()) first_error = r.first_error;
      }
      total_errors += errors;
      const double ratio = paired_ratio(m, d);
      json::object entry;
      entry["mkv_mb_per_s"] = std::round(median(m));
      entry["ceiling_mb_per_s"] = std::round(median(d));
      entry["ceiling"] = "nginx volume, direct";
      entry["ratio"] = round3(ratio);
      entry["errors"] = errors;
      if (!first_error.empty()) entry["first_error"] = first_error;
      if (target) {
        entry["target"] = *target;
        entry["meets_target"] = ratio >= *target;
      }
      large_doc[key] = entry;
      print_row(label, median(m), "nginx volume, direct", median(d), ratio, target, errors, "MB/s");
      if (!first_error.empty()) std::printf("    %s\n", first_error.c_str());
    };
    const std::string size = std::to_string(settings.large_size / MiB) + " MiB";
    add("put", size + " PUT (r=2)", large_put_mkv, large_put_direct, 0.4);
    add("get", size + " GET, followed", large_get_mkv, large_get_direct, std::nullopt);
    if (!large_put_s3.empty()) {
      add("s3_put", size + " PutObject", large_put_s3, large_put_direct, std::nullopt);
    }
    if (!large_get_s3.empty()) {
      add("s3_get", size + " GetObject", large_get_s3, large_get_direct, 0.5);
    }
    large_doc["bytes"] = settings.large_size;
    doc["large"] = large_doc;
  }

  // A huge request: its rate, and how much mkv's resident memory grew while it ran.
  const auto report_huge = [&](const std::string& key, const std::string& label,
                               const HugeResult& h) {
    total_errors += h.op.errors;
    json::object entry;
    entry["bytes"] = settings.huge_size;
    entry["mb_per_s"] = std::round(h.op.mb_per_s);
    entry["errors"] = h.op.errors;
    if (!h.op.first_error.empty()) entry["first_error"] = h.op.first_error;
    if (settings.mkv_pid > 0) {
      const double growth =
          (static_cast<double>(h.rss_peak) - static_cast<double>(h.rss_before)) / MiB;
      entry["rss_before_mib"] = std::round(h.rss_before / double(MiB) * 10) / 10;
      entry["rss_peak_mib"] = std::round(h.rss_peak / double(MiB) * 10) / 10;
      entry["rss_max_sampled_mib"] = std::round(h.rss_max_sampled / double(MiB) * 10) / 10;
      entry["rss_peak_from"] = h.hwm_reset ? "VmHWM after reset" : "VmRSS sampled every 5 ms";
      entry["rss_growth_mib"] = std::round(growth * 10) / 10;
      entry["target_growth_mib"] = 64;
      entry["meets_target"] = growth <= 64;
      std::printf(
          "%-22s %10.0f MB/s; mkv RSS %.1f MiB -> peak %.1f MiB: growth %.1f MiB (target <= 64), "
          "errors %llu\n",
          label.c_str(), h.op.mb_per_s, h.rss_before / double(MiB), h.rss_peak / double(MiB),
          growth, static_cast<unsigned long long>(h.op.errors));
    }
    if (!h.op.first_error.empty()) std::printf("    %s\n", h.op.first_error.c_str());
    doc[key] = entry;
  };
  const std::string huge_size = std::to_string(huge_mib) + " MiB";
  if (huge_put) report_huge("huge_put", huge_size + " PUT", *huge_put);
  if (huge_s3_put) report_huge("huge_s3_put", huge_size + " PutObject", *huge_s3_put);
  if (huge_s3_get) report_huge("huge_s3_get", huge_size + " GetObject", *huge_s3_get);

  if (settings.wrk_redirect > 0 && settings.wrk_mkv > 0) {
    json::object cross;
    cross["what"] = "wrk -c" + std::to_string(settings.connections) +
                    ", one static GET (no Lua), index-only GET of one key vs the fixed 302";
    cross["mkv_rps"] = std::round(settings.wrk_mkv);
    cross["ceiling_rps"] = std::round(settings.wrk_redirect);
    cross["ratio"] = round3(settings.wrk_mkv / settings.wrk_redirect);
    doc["wrk_crosscheck"] = cross;
    std::printf("%-22s %10.0f %-5s %-26s %10.0f %6.2f   (wrk cross-check)\n", "GET index only, wrk",
                settings.wrk_mkv, "req/s", "nginx fixed 302", settings.wrk_redirect,
                settings.wrk_mkv / settings.wrk_redirect);
  }

  doc["errors"] = total_errors;
  std::printf("errors: %llu\n", static_cast<unsigned long long>(total_errors));
  if (!settings.json_path.empty()) {
    std::ofstream out(settings.json_path);
    out << json::serialize(doc) << "\n";
    if (!out) {
      std::cerr << "mkv-load: cannot write " << settings.json_path << "\n";
      return 1;
    }
  }
  return total_errors == 0 ? 0 : 1;
}
