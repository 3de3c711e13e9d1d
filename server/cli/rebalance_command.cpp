// `mkv rebalance`: its options, then the dry run's report on stdout, or the rebalance job
// (jobs/rebalance_job.h) with its progress and summary on stderr.
#include "commands.h"

#include "drive.h"
#include "online.h"
#include "progress_line.h"

#include "index/backend.h"
#include "jobs/rebalance_job.h"

#include "mkv/admin_request.h"
#include "mkv/rebalance_report.h"

#include <iostream>

namespace mkv::cli {

namespace {

constexpr const char* rebalance_text =
    "usage: mkv -d DB -v URLS -r N rebalance [--dry-run] [--rate MB/s] [options]\n"
    "\n"
    "Puts every key on its placement: the first N volumes of its ranking among the volumes of\n"
    "-v. For each key that is elsewhere it copies the blob (streamed) to the new volumes, then\n"
    "updates the index, then deletes the copies no longer needed, so a key always has a\n"
    "readable copy and the index never names a volume without one. Volumes that the index\n"
    "names but -v no longer lists are copied from and emptied: keep them running until\n"
    "rebalance is done. The work is journalled with the index: after a crash or kill -9,\n"
    "run rebalance again and it finishes the job. --dry-run prints the plan and changes\n"
    "nothing. While `mkv serve` owns DB, the job runs inside that server: it places new\n"
    "writes by -v and -r at once and moves the existing keys while it keeps serving, each\n"
    "under its key's write lock; old copies are deleted --grace seconds after their record\n"
    "changed, so a redirect handed out just before still finds its bytes. Ctrl-C stops it\n"
    "after the keys in hand. --rate caps the bytes copied per second (0: no cap), and\n"
    "--concurrency the keys moved at once, so serving keeps its latency.\n"
    "Exit status: 0 every key placed, 1 some key could not be moved, 2 bad command line.\n";

// Prints the job's notes, and its progress line when due.
void report(ProgressLine& progress, RebalanceJob& job) {
  for (const auto& note : job.take_notes()) progress.print(note + '\n');
  if (!progress.due()) return;
  RebalanceProgress p = job.progress();
  p.seconds = progress.seconds();
  progress.show(format_rebalance_progress(p));
}

}  // namespace

int rebalance_command(const Invocation& invocation, const std::vector<std::string>& args) {
  JobOptions job_settings;
  auto options = job_options("rebalance options", job_settings,
                             "keys moved (copies, deletes) at once");
  unsigned grace = 10;
  double rate_mb = 0;
  options.add_options()
      ("dry-run", "print the plan (on stdout) and change nothing")
      ("grace", po::value<unsigned>(&grace)->default_value(10),
       "online: seconds between a record changing and its old copies being deleted")
      ("rate", po::value<double>(&rate_mb)->default_value(0),
       "MB/s copied between volumes at most (0: no limit)");
  po::variables_map vars;
  if (!parse_command(args, options, vars, rebalance_text)) return 0;
  if (!check_job_options(job_settings)) return 2;
  if (rate_mb < 0) {
    std::cerr << "mkv: --rate must not be negative\n";
    return 2;
  }

  ProgressLine progress;
  const std::string& db = invocation.db;
  const Topology& topology = invocation.topology;
  // Checked first: the answer is the same offline and online.
  if (topology.urls.size() < topology.replicas) {
    progress.print("mkv rebalance: " +
                   message(Error::not_enough_volumes(topology.replicas, topology.urls.size())) +
                   '\n');
    return 1;
  }
  auto owner = IndexBackend::claim(db, "rebalance");
  if (!owner) {
    AdminRequest online{AdminRequest::What::rebalance, {}, {}, {}};
    online.rebalance = {topology, vars.count("dry-run") > 0, grace, job_settings.concurrency,
                        rate_mb};
    if (auto code = run_online(db, "rebalance", admin_target(online))) return *code;
  }
  if (!owner) {
    progress.print("mkv rebalance: " + owner.error().detail + '\n');
    return 1;
  }
  if (!IndexBackend::exists(db)) {
    progress.print("mkv rebalance: there is no index at " + db + '\n');
    return 1;
  }
  auto index = IndexBackend::open(db);
  if (!index) {
    progress.print("mkv rebalance: " + message(index.error()) + '\n');
    return 1;
  }
  if (vars.count("dry-run")) {
    auto planned = rebalance_dry_run(*index, topology);
    if (!planned) {
      progress.print("mkv rebalance: " + message(planned.error()) + '\n');
      return 1;
    }
    std::cout << *planned;
    return 0;
  }

  net::io_context io;
  VolumeClient volumes(job_settings.volume);
  IndexWriter writer(*index);
  KeyLocks locks;
  RebalanceJob job(*index, writer, locks, volumes, topology,
                   {job_settings.concurrency, std::chrono::milliseconds(0), rate_mb * 1e6});
  const auto outcome = drive(io, job, [&] { report(progress, job); });
  for (const auto& note : job.take_notes()) progress.print(note + '\n');

  RebalanceProgress counts = job.progress();
  counts.seconds = progress.seconds();
  progress.finish(format_rebalance_progress(counts));
  if (!outcome) {
    progress.print("mkv rebalance: " + message(outcome.error()) +
                   "\nrebalance: stopped; run it again to finish\n");
  }
  progress.print(format_rebalance_summary(counts));
  return outcome && counts.keys_failed == 0 ? 0 : 1;
}

}  // namespace mkv::cli
