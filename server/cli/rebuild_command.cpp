// `mkv rebuild`: its options, then the rebuild job (jobs/rebuild_job.h) with its progress and
// summary on stderr.
#include "commands.h"

#include "drive.h"
#include "progress_line.h"

#include "index/backend.h"
#include "jobs/rebuild_job.h"

#include "mkv/format.h"
#include "mkv/rebuild_report.h"

namespace mkv::cli {

namespace {

constexpr const char* rebuild_text =
    "usage: mkv -d DB -v URLS -r N rebuild [options]\n"
    "\n"
    "Walks every volume's JSON autoindex and builds a new index of every key found (its\n"
    "volumes in placement order, its size) beside DB, then puts it in place of DB in one step:\n"
    "a rebuild that fails or is killed leaves DB as it was. DB is replaced only when every\n"
    "volume was read to the end; if one cannot be read, rebuild exits 1 and changes nothing.\n"
    "To rebuild without a volume that is gone for good, leave it out of -v. Nothing is written\n"
    "to or deleted from the volumes. Refuses while `mkv serve` (or another command) owns DB.\n"
    "Exit status: 0 DB replaced, 1 DB left unchanged, 2 bad command line.\n";

// Shows the line of the phase the job is in.
void show_progress(ProgressLine& progress, const RebuildJob& job) {
  if (!progress.due()) return;
  if (job.phase() == RebuildJob::Phase::walking) {
    WalkProgress p = job.walk_progress();
    p.seconds = progress.seconds();
    progress.show(format_walk_progress(p));
  } else {
    progress.show(format_index_write_progress(job.keys_written(), job.keys_total()));
  }
}

}  // namespace

int rebuild_command(const Invocation& invocation, const std::vector<std::string>& args) {
  JobOptions job_settings;
  const auto options = job_options("rebuild options", job_settings,
                                   "directory listings in flight at once");
  po::variables_map vars;
  if (!parse_command(args, options, vars, rebuild_text)) return 0;
  if (!check_job_options(job_settings)) return 2;

  ProgressLine progress;
  const std::string& db = invocation.db;
  auto owner = IndexBackend::claim(db, "rebuild");
  if (!owner) {
    progress.print("mkv rebuild: " + owner.error().detail + '\n');
    return 1;
  }
  if (invocation.topology.volumes.empty()) {
    progress.print("mkv rebuild: no volumes configured\n");
    return 1;
  }

  net::io_context io;
  VolumeClient volumes(job_settings.volume);
  RebuildJob job(db, volumes, invocation.topology, job_settings.concurrency);
  bool walked = false;
  const auto outcome = drive(io, job, [&] {
    if (!walked && job.phase() != RebuildJob::Phase::walking) {
      walked = true;
      WalkProgress p = job.walk_progress();
      p.seconds = progress.seconds();
      progress.finish(format_walk_progress(p));
    }
    show_progress(progress, job);
  });
  if (!walked) {
    WalkProgress p = job.walk_progress();
    p.seconds = progress.seconds();
    progress.finish(format_walk_progress(p));
  }
  for (const auto& example : job.skipped_examples()) {
    progress.print("rebuild: skipped " + example + '\n');
  }
  if (!job.unreadable().empty()) {
    progress.print(format_unreadable(job.unreadable(), db));
    return 1;
  }
  if (job.phase() != RebuildJob::Phase::walking) {
    progress.finish(format_index_write_progress(job.keys_written(), job.keys_total()));
  }
  if (!outcome) {
    progress.print("mkv rebuild: " + message(outcome.error()) + "\nrebuild: the index " + db +
                   " was left unchanged\n");
    return 1;
  }
  const double seconds = progress.seconds();
  progress.print(format_rebuild_summary(job.summary(), invocation.topology.replicas));
  progress.print("rebuild: replaced " + db + " in " + format_duration(seconds) + " (" +
                 std::to_string(per_second(job.summary().keys, seconds)) + " keys/s)\n");
  return 0;
}

}  // namespace mkv::cli
