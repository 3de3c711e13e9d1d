// The admin listener of `mkv serve` (see admin_listener.h).
#include "admin_listener.h"

#include "index/shared.h"

#include "admin/job_stream.h"
#include "http/reply.h"
#include "jobs/gc_job.h"
#include "jobs/rebalance_job.h"
#include "jobs/verify_job.h"
#include "log.h"

#include "mkv/admin_request.h"
#include "mkv/gc.h"
#include "mkv/rebalance_report.h"
#include "mkv/verify.h"

#include <exception>
#include <string>
#include <string_view>

namespace mkv {

namespace {

using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// How verify reports online: as the offline command does (cli/verify_command.cpp).
struct VerifyReport {
  static constexpr std::string_view name = "verify";
  bool repair = false;

  std::string progress(const VerifyJob& job, double seconds) const {
    VerifySummary s = job.summary();
    s.seconds = seconds;
    return format_verify_progress(s);
  }
  std::string summary(const VerifyJob& job, double seconds) const {
    VerifySummary s = job.summary();
    s.seconds = seconds;
    return format_verify_summary(s, repair);
  }
  bool succeeded(const VerifyJob& job) const { return verified(job.summary()); }
  JobLine note_kind(std::string_view) const { return JobLine::note; }
  void gauge(const VerifyJob& job, JobGauges& g) const {
    const VerifySummary& s = job.summary();
    g.keys = s.keys;
    g.bytes = s.bytes;
    g.fixed = s.repaired;
    g.failures = s.missing + s.wrong_size + s.corrupt + s.unreadable + s.lost + s.conflicts -
                 std::min(s.repaired, s.missing + s.wrong_size + s.corrupt);
  }
};

// How rebalance reports online: as the offline command does (cli/rebalance_command.cpp).
struct RebalanceReport {
  static constexpr std::string_view name = "rebalance";

  static RebalanceProgress at(const RebalanceJob& job, double seconds) {
    RebalanceProgress p = job.progress();
    p.seconds = seconds;
    return p;
  }
  std::string progress(const RebalanceJob& job, double seconds) const {
    return format_rebalance_progress(at(job, seconds));
  }
  std::string summary(const RebalanceJob& job, double seconds) const {
    return format_rebalance_summary(at(job, seconds));
  }
  bool succeeded(const RebalanceJob& job) const {
    return job.progress().keys_failed == 0 && job.progress().delete_failures == 0;
  }
  JobLine note_kind(std::string_view) const { return JobLine::note; }
  void gauge(const RebalanceJob& job, JobGauges& g) const {
    const RebalanceProgress& p = job.progress();
    g.keys = p.keys_scanned;
    g.bytes = p.bytes;
    g.fixed = p.keys_moved;
    g.failures = p.keys_failed + p.delete_failures;
  }
};

// How gc reports online: as the offline command does (cli/gc_command.cpp): the dry run's list
// on standard output.
struct GcReport {
  static constexpr std::string_view name = "gc";
  GcRequest request;

  GcSummary at(const GcJob& job, double seconds) const {
    GcSummary s = job.summary();
    s.seconds = seconds;
    return s;
  }
  std::string progress(const GcJob& job, double seconds) const {
    return format_gc_progress(at(job, seconds), request.dry_run);
  }
  std::string summary(const GcJob& job, double seconds) const {
    return format_gc_summary(at(job, seconds), static_cast<std::int64_t>(request.grace_seconds),
                             request.dry_run);
  }
  bool succeeded(const GcJob& job) const { return gc_complete(job.summary()); }
  JobLine note_kind(std::string_view note) const {
    return request.dry_run && note.starts_with("would delete ") ? JobLine::out : JobLine::note;
  }
  void gauge(const GcJob& job, JobGauges& g) const {
    const GcSummary& s = job.summary();
    g.keys = s.files;
    g.bytes = s.bytes_freed;
    g.fixed = s.deleted + s.reclaimed;
    g.failures = s.failures + s.unreadable;
  }
};

// Returns text as "out" lines and a last "exit 0": a reply that is not a running job.
std::string output_lines(std::string_view text) {
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    out += job_line(JobLine::out, text.substr(at, end - at));
    at = end == std::string_view::npos ? text.size() : end + 1;
  }
  return out + job_line(JobLine::exit, "0");
}

// Returns the name of the online job running now, if one is.
std::optional<std::string_view> running_job(App& app) {
  for (const auto name : {"verify", "rebalance", "gc"}) {
    if (app.metrics.job(name).running) return name;
  }
  return std::nullopt;
}

// Writes a whole reply and closes the connection.
net::awaitable<void> answer(beast::tcp_stream& stream, Reply reply) {
  frame(reply, false, 11, false);
  stream.expires_after(10s);
  co_await http::async_write(stream, reply, as_values);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

// Runs an online rebalance: new writes are placed by the target topology from now on, and the
// existing keys move while the server keeps serving. A dry run answers the plan.
net::awaitable<void> rebalance(App& app, beast::tcp_stream& stream, const RebalanceRequest& r) {
  if (r.dry_run) {
    // The plan reads the whole index: on the hashing pool, never on an IO thread.
    auto planned = co_await net::co_spawn(
        app.hashers,
        [&]() -> net::awaitable<Result<std::string>> {
          co_return rebalance_dry_run(app.index, r.target);
        },
        net::use_awaitable);
    if (!planned) {
      co_await answer(stream, error_reply(planned.error()));
      co_return;
    }
    Reply reply{http::status::ok, 11};
    reply.set(http::field::content_type, "text/plain; charset=utf-8");
    reply.body() = output_lines(*planned);
    co_await answer(stream, std::move(reply));
    co_return;
  }
  if (*app.topology.load() != r.target) {
    app.topology.replace(r.target);
    log_line("admin: rebalance: new writes are placed on " + std::to_string(r.target.urls.size()) +
             " volumes, r=" + std::to_string(r.target.replicas) + " (" +
             join(r.target.urls, ",") + ") from now on");
  }
  log_line("admin: rebalance started");
  RebalanceJob job(app.index, app.writer, app.locks, app.volumes, r.target,
                   {r.concurrency, std::chrono::seconds(r.grace_seconds), r.rate_mb * 1e6});
  co_await stream_job(app, stream, job, RebalanceReport{});
  log_line("admin: rebalance ended: " + format_rebalance_progress(job.progress()));
}

// Serves one admin request (the connection is closed after it).
net::awaitable<void> serve_admin(App& app, beast::tcp_stream stream) {
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(16 * 1024);
  stream.expires_after(30s);
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_values);
  if (ec) co_return;
  const auto& request = parser.get();
  auto asked = parse_admin_request(request.method_string(), request.target());
  if (!asked) {
    co_await answer(stream, error_reply(asked.error()));
    co_return;
  }
  if (asked->what == AdminRequest::What::metrics) {
    Reply reply{http::status::ok, 11};
    reply.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    const auto keys = app.index.count();  // one read of a kept count
    reply.body() = app.metrics.render(app.volumes, *app.topology.load(),
                                      keys ? std::optional(*keys) : std::nullopt);
    co_await answer(stream, std::move(reply));
    co_return;
  }
  if (auto busy = running_job(app)) {
    co_await answer(stream, error_reply(Error::job_running(std::string(*busy))));
    co_return;
  }
  // On a shared index, also one job at a time among all the servers (dry runs included).
  auto claim = co_await claim_online_job(app.index);
  if (!claim) {
    co_await answer(stream, error_reply(claim.error()));
    co_return;
  }
  if (!*claim) {
    co_await answer(stream, error_reply(Error::job_running("job, on another server")));
    co_return;
  }
  if (!app.gate.enter()) {
    co_await answer(stream, error_reply(Error::shutting_down()));
    co_return;
  }
  if (asked->what == AdminRequest::What::verify) {
    const VerifyRequest& v = asked->verify;
    VerifySettings settings{v.repair, v.prefix, v.rate_mb * 1e6, v.concurrency};
    log_line(std::string("admin: verify") + (v.repair ? " --repair" : "") +
             (v.prefix.empty() ? "" : " --prefix " + v.prefix) + " started");
    VerifyJob job(app.index, app.writer, app.locks, app.volumes, app.hashers, settings);
    co_await stream_job(app, stream, job, VerifyReport{v.repair});
    log_line("admin: verify ended: " + format_verify_progress(job.summary()));
  } else if (asked->what == AdminRequest::What::gc) {
    const GcRequest& g = asked->gc;
    log_line(std::string("admin: gc") + (g.dry_run ? " --dry-run" : "") + " --grace " +
             std::to_string(g.grace_seconds) + " started");
    GcJob job(app.index, app.volumes, app.locks, *app.topology.load(),
              GcSettings{g.dry_run, std::chrono::seconds(g.grace_seconds), g.concurrency});
    co_await stream_job(app, stream, job, GcReport{g});
    log_line("admin: gc ended: " + format_gc_progress(job.summary(), g.dry_run));
  } else if (asked->what == AdminRequest::What::rebalance) {
    co_await rebalance(app, stream, asked->rebalance);
  } else {
    co_await answer(stream, error_reply(Error::not_found()));
  }
  app.gate.leave();
}

}  // namespace

net::awaitable<void> accept_admin(App& app, tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(as_values);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      log_line("admin accept: " + ec.message());
      net::steady_timer pause(acceptor.get_executor(), 100ms);
      co_await pause.async_wait(as_values);
      continue;
    }
    net::co_spawn(acceptor.get_executor(), serve_admin(app, beast::tcp_stream(std::move(socket))),
                  [](std::exception_ptr failure) {
                    if (!failure) return;
                    try {
                      std::rethrow_exception(failure);
                    } catch (const std::exception& e) {
                      log_line(std::string("admin connection failed: ") + e.what());
                    }
                  });
  }
}

}  // namespace mkv
