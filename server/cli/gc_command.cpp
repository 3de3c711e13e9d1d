// `mkv gc`: its options, then the gc job (jobs/gc_job.h) with its progress and summary on
// stderr, and in a dry run the list of what it would delete on stdout.
#include "commands.h"

#include "drive.h"
#include "online.h"
#include "progress_line.h"

#include "index/backend.h"
#include "index/key_locks.h"
#include "jobs/gc_job.h"

#include "mkv/admin_request.h"
#include "mkv/gc.h"

#include <chrono>
#include <cstdint>
#include <iostream>

namespace mkv::cli {

namespace {

constexpr const char* gc_text =
    "usage: mkv -d DB -v URLS -r N gc [--dry-run] [--grace SECONDS] [options]\n"
    "\n"
    "Walks every volume's JSON autoindex (as rebuild does) and deletes every file that no\n"
    "record of DB names on that volume (its key has no record, its record lists other volumes,\n"
    "or its path is not a key), and every file in the volume's .mkv/staging/ that no\n"
    "unfinished overwrite names, once it is older than the grace period by the volume's own\n"
    "clock. A key's file is re-checked against DB under the key's write lock just before it is\n"
    "deleted. This makes a DELETE whose copies could not all be deleted stick: without gc the\n"
    "next rebuild indexes the copy left behind again. --dry-run lists what would be deleted on\n"
    "stdout and deletes nothing. --grace defaults to 3600 s, far longer than any write in\n"
    "flight. While `mkv serve` owns DB, the job runs inside that server (on the volumes it\n"
    "places by) while it keeps serving; Ctrl-C stops it after the files in hand.\n"
    "Exit status: 0 every orphan deleted (or listed), 1 otherwise (a volume that could not be\n"
    "read, a delete that failed), 2 bad command line.\n";

// Prints the job's notes (in a dry run, what it would delete goes to stdout), and its progress
// line when due.
void report(ProgressLine& progress, GcJob& job, bool dry_run) {
  for (const auto& note : job.take_notes()) {
    if (dry_run && note.starts_with("would delete ")) {
      std::cout << note << '\n' << std::flush;
    } else {
      progress.print(note + '\n');
    }
  }
  if (!progress.due()) return;
  GcSummary s = job.summary();
  s.seconds = progress.seconds();
  progress.show(format_gc_progress(s, dry_run));
}

}  // namespace

int gc_command(const Invocation& invocation, const std::vector<std::string>& args) {
  JobOptions job_settings;
  GcSettings settings;
  std::int64_t grace = 3600;
  auto options =
      job_options("gc options", job_settings, "listings and deletions in flight at once");
  options.add_options()
      ("dry-run", po::bool_switch(&settings.dry_run),
       "list what would be deleted, delete nothing")
      ("grace", po::value<std::int64_t>(&grace)->default_value(3600),
       "seconds an orphan must be old before it is deleted");
  po::variables_map vars;
  if (!parse_command(args, options, vars, gc_text)) return 0;
  if (!check_job_options(job_settings)) return 2;
  if (grace < 0) {
    std::cerr << "mkv: --grace must not be negative\n";
    return 2;
  }
  settings.grace = std::chrono::seconds(grace);
  settings.concurrency = job_settings.concurrency;

  ProgressLine progress;
  const std::string& db = invocation.db;
  auto owner = IndexBackend::claim(db, "gc");
  if (!owner) {
    AdminRequest online{AdminRequest::What::gc, {}, {}, {}};
    online.gc = {settings.dry_run, static_cast<std::uint64_t>(grace), settings.concurrency};
    if (auto code = run_online(db, "gc", admin_target(online))) return *code;
    progress.print("mkv gc: " + owner.error().detail + '\n');
    return 1;
  }
  if (invocation.topology.volumes.empty()) {
    progress.print("mkv gc: no volumes configured\n");
    return 1;
  }
  if (!IndexBackend::exists(db)) {
    // Without an index every file would look like an orphan.
    progress.print("mkv gc: there is no index at " + db + '\n');
    return 1;
  }
  auto index = IndexBackend::open(db);
  if (!index) {
    progress.print("mkv gc: " + message(index.error()) + '\n');
    return 1;
  }
  net::io_context io;
  VolumeClient volumes(job_settings.volume);
  KeyLocks locks;  // nothing else writes the index while this process owns it
  GcJob job(*index, volumes, locks, invocation.topology, settings);
  const auto outcome = drive(io, job, [&] { report(progress, job, settings.dry_run); });
  report(progress, job, settings.dry_run);
  GcSummary summary = job.summary();
  summary.seconds = progress.seconds();
  progress.finish(format_gc_progress(summary, settings.dry_run));
  if (!outcome) progress.print("mkv gc: " + message(outcome.error()) + "\ngc: stopped\n");
  progress.print(format_gc_summary(summary, grace, settings.dry_run));
  return outcome && gc_complete(summary) ? 0 : 1;
}

}  // namespace mkv::cli
