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
    "Walks every volume's JSON autoindex in key order and writes a new index of every key\n"
    "found (its volumes in placement order, its size) beside DB as it goes, then puts it in\n"
    "place of DB in one step: a rebuild that fails or is killed leaves DB as it was. DB is\n"
    "replaced only when every volume was read to the end; if one cannot be read, rebuild\n"
    "exits 1 and changes nothing. To rebuild without a volume that is gone for good, leave it\n"
    "out of -v. Nothing is written to or deleted from the volumes. Refuses while `mkv serve`\n"
    "(or another command) owns DB.\n"
    "Exit status: 0 DB replaced, 1 DB left unchanged, 2 bad command line.\n";

// Returns the walk's progress line now.
std::string walk_line(const ProgressLine& progress, const RebuildJob& job) {
  WalkProgress p = job.walk_progress();
  p.seconds = progress.seconds();
  return format_walk_progress(p);
}

}  // namespace

int rebuild_command(const Invocation& invocation, const std::vector<std::string>& args) {
  JobOptions job_settings;
  const auto options =
      job_options("rebuild options", job_settings, "directory listings in flight at once");
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
  const auto outcome = drive(io, job, [&] {
    if (progress.due()) progress.show(walk_line(progress, job));
  });
  progress.finish(walk_line(progress, job));
  for (const auto& example : job.skipped_examples()) {
    progress.print("rebuild: skipped " + example + '\n');
  }
  if (!job.unreadable().empty()) {
    progress.print(format_unreadable(job.unreadable(), db));
    return 1;
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
