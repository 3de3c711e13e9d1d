// Running an online job inside `mkv serve` for an admin connection: the job's steps run on the
// connection's io_context while its notes, progress line, closing report and exit status
// stream back as lines (mkv/admin_request.h) in a chunked reply. The client half-closing the
// connection (the CLI's Ctrl-C), a client gone, or the server stopping asks the job to stop at
// its next safe point; the job always runs to that point, never cut off mid-key. A report
// describes the job: its name, progress(job, seconds), summary(job, seconds), succeeded(job),
// gauge(job, gauges) and note_kind(note) (note, or out for a line of standard output).
#pragma once

#include "admin/metrics.h"
#include "app.h"
#include "asio.h"
#include "run_all.h"

#include "mkv/admin_request.h"
#include "mkv/error.h"

#include <chrono>
#include <exception>
#include <string>

namespace mkv {

namespace detail {

// What one streamed job shares between its stepper, its reporter and its watcher (all on one
// io_context, so no lock).
struct JobRun {
  bool done = false;
  bool stop_noted = false;
  bool client_gone = false;
  Result<void> outcome;
  net::steady_timer wake;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  explicit JobRun(net::any_io_executor executor) : wake(std::move(executor)) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

// Runs job's steps until none is left or one fails.
template <class Job>
net::awaitable<void> run_steps(Job& job, JobRun& run) {
  try {
    for (;;) {
      auto more = co_await job.step();
      if (!more || !*more) {
        if (!more) run.outcome = more.error();
        break;
      }
    }
  } catch (const std::exception& e) {
    run.outcome = Error::database(std::string("internal error: ") + e.what());
  }
  run.done = true;
  run.wake.cancel();
}

// Reads from the client until it half-closes or goes; then asks the job to stop.
template <class Job>
net::awaitable<void> watch_client(beast::tcp_stream& stream, Job& job, JobRun& run) {
  char byte;
  for (;;) {
    auto [ec, n] = co_await stream.socket().async_read_some(net::buffer(&byte, 1), as_values);
    if (ec) break;
  }
  if (!run.done) {
    job.request_stop();
    run.wake.cancel();
  }
}

// Writes text as one chunk; remembers a client that is gone (the job then runs to its stop
// unseen).
inline net::awaitable<void> write_chunk(beast::tcp_stream& stream, JobRun& run,
                                        const std::string& text) {
  if (run.client_gone || text.empty()) co_return;
  auto [ec, n] = co_await net::async_write(stream.socket(), http::make_chunk(net::buffer(text)),
                                           as_values);
  if (ec) run.client_gone = true;
}

// Sends the job's notes, and its progress line every second, until it is done; then the
// closing report and the exit status; then stops the watcher.
template <class Job, class Report>
net::awaitable<void> report_job(App& app, beast::tcp_stream& stream, Job& job, JobRun& run,
                                JobGauges& gauges, Report& report) {
  auto last_progress = std::chrono::steady_clock::now();
  for (;;) {
    if (!run.done) {
      run.wake.expires_after(std::chrono::milliseconds(200));
      co_await run.wake.async_wait(as_values);
    }
    if ((app.gate.closed() || run.client_gone) && !job.stopping()) job.request_stop();
    std::string text;
    if (job.stopping() && !run.stop_noted) {
      run.stop_noted = true;
      text += job_line(JobLine::note, std::string(report.name) +
                                          ": stopping at a safe point (the keys in hand are "
                                          "finished first)");
    }
    for (const auto& note : job.take_notes()) text += job_line(report.note_kind(note), note);
    report.gauge(job, gauges);
    const auto now = std::chrono::steady_clock::now();
    if (run.done || now - last_progress >= std::chrono::seconds(1)) {
      last_progress = now;
      text += job_line(JobLine::progress, report.progress(job, run.seconds()));
    }
    if (run.done) {
      if (!run.outcome) {
        text += job_line(JobLine::note, std::string(report.name) + ": " +
                                            message(run.outcome.error()));
      }
      if (job.stopping()) {
        text += job_line(JobLine::note, std::string(report.name) + ": stopped before the end");
      }
      std::string summary = report.summary(job, run.seconds());
      for (std::size_t at = 0; at < summary.size();) {
        const std::size_t end = summary.find('\n', at);
        text += job_line(JobLine::summary, summary.substr(at, end - at));
        at = end == std::string::npos ? summary.size() : end + 1;
      }
      const bool good = run.outcome && !job.stopping() && report.succeeded(job);
      text += job_line(JobLine::exit, good ? "0" : "1");
      co_await write_chunk(stream, run, text);
      break;
    }
    co_await write_chunk(stream, run, text);
  }
  if (!run.client_gone) {
    co_await net::async_write(stream.socket(), http::make_chunk_last(), as_values);
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  stream.socket().cancel(ignored);
}

}  // namespace detail

// Answers an admin request for a job: the chunked reply's header, then job run to its end (or
// its stop) with its lines streamed. report describes the job: name, progress(job, seconds),
// summary(job, seconds), succeeded(job) and gauge(job, gauges).
template <class Job, class Report>
net::awaitable<void> stream_job(App& app, beast::tcp_stream& stream, Job& job, Report report) {
  JobGauges& gauges = app.metrics.job(report.name);
  gauges.running = true;
  gauges.runs.fetch_add(1, std::memory_order_relaxed);
  gauges.keys = gauges.bytes = gauges.fixed = gauges.failures = 0;
  http::response<http::empty_body> head{http::status::ok, 11};
  head.set(http::field::content_type, "text/plain; charset=utf-8");
  head.set(http::field::cache_control, "no-store");
  head.chunked(true);
  http::response_serializer<http::empty_body> serializer{head};
  stream.expires_never();
  auto [ec, n] = co_await http::async_write_header(stream, serializer, as_values);
  detail::JobRun run(stream.get_executor());
  run.client_gone = static_cast<bool>(ec);
  co_await run_all(3, [&](std::size_t i) -> net::awaitable<void> {
    if (i == 0) return detail::run_steps(job, run);
    if (i == 1) return detail::report_job(app, stream, job, run, gauges, report);
    return detail::watch_client(stream, job, run);
  });
  report.gauge(job, gauges);
  gauges.running = false;
}

}  // namespace mkv
