// `mkv verify`: its options, then the verify job (jobs/verify_job.h) with its progress and
// summary on stderr.
#include "commands.h"

#include "drive.h"
#include "online.h"
#include "progress_line.h"

#include "index/backend.h"
#include "jobs/verify_job.h"

#include "mkv/admin_request.h"
#include "mkv/verify.h"

#include <algorithm>
#include <iostream>
#include <thread>

namespace mkv::cli {

namespace {

constexpr const char* verify_text =
    "usage: mkv -d DB -v URLS -r N verify [--repair] [--prefix P] [--rate MB/s] [options]\n"
    "\n"
    "Reads every copy each record names (of the keys that start with P), streams it through\n"
    "MD5 and reports each copy that is missing, of the wrong size or corrupt (its MD5 is not\n"
    "the record's). A record whose checksum is unknown (written before checksums, or rebuilt)\n"
    "gets the MD5 of its copies when they all agree, and is reported as a conflict when they do\n"
    "not. --repair replaces every bad copy from a good one, through a staging file whose MD5 is\n"
    "checked before it is moved into place; a key with no good copy left is reported as lost.\n"
    "--rate caps the bytes read per second so serving is not starved (0: no cap). While\n"
    "`mkv serve` owns DB, the job runs inside that server (through its admin listener) while\n"
    "it keeps serving, and its progress shows here; Ctrl-C stops it after the keys in hand.\n"
    "Exit status: 0 every copy good (or repaired), 1 otherwise, 2 bad command line.\n";

// Prints the job's notes, and its progress line when due.
void report(ProgressLine& progress, VerifyJob& job) {
  for (const auto& note : job.take_notes()) progress.print(note + '\n');
  if (!progress.due()) return;
  VerifySummary s = job.summary();
  s.seconds = progress.seconds();
  progress.show(format_verify_progress(s));
}

}  // namespace

int verify_command(const Invocation& invocation, const std::vector<std::string>& args) {
  JobOptions job_settings;
  VerifySettings settings;
  double rate_mb = 0;
  auto options = job_options("verify options", job_settings, "keys checked at once");
  options.add_options()
      ("repair", po::bool_switch(&settings.repair), "replace bad copies from good ones")
      ("prefix", po::value<std::string>(&settings.prefix), "only the keys that start with it")
      ("rate", po::value<double>(&rate_mb)->default_value(0),
       "MB/s read from the volumes at most (0: no limit)");
  po::variables_map vars;
  if (!parse_command(args, options, vars, verify_text)) return 0;
  if (!check_job_options(job_settings)) return 2;
  if (rate_mb < 0) {
    std::cerr << "mkv: --rate must not be negative\n";
    return 2;
  }
  settings.rate = rate_mb * 1e6;
  settings.concurrency = job_settings.concurrency;

  ProgressLine progress;
  const std::string& db = invocation.db;
  auto owner = IndexBackend::claim(db, "verify");
  if (!owner) {
    AdminRequest online{AdminRequest::What::verify, {}, {}, {}};
    online.verify = {settings.repair, settings.prefix, rate_mb, settings.concurrency};
    if (auto code = run_online(db, "verify", admin_target(online))) return *code;
    progress.print("mkv verify: " + owner.error().detail + '\n');
    return 1;
  }
  if (!IndexBackend::exists(db)) {
    progress.print("mkv verify: there is no index at " + db + '\n');
    return 1;
  }
  auto index = IndexBackend::open(db);
  if (!index) {
    progress.print("mkv verify: " + message(index.error()) + '\n');
    return 1;
  }
  net::io_context io;
  VolumeClient volumes(job_settings.volume);
  IndexWriter writer(*index);
  KeyLocks locks;
  net::thread_pool hashers(std::max(1u, std::thread::hardware_concurrency()));
  VerifyJob job(*index, writer, locks, volumes, hashers, settings);
  const auto outcome = drive(io, job, [&] { report(progress, job); });
  for (const auto& note : job.take_notes()) progress.print(note + '\n');
  VerifySummary summary = job.summary();
  summary.seconds = progress.seconds();
  progress.finish(format_verify_progress(summary));
  if (!outcome) {
    progress.print("mkv verify: " + message(outcome.error()) + "\nverify: stopped\n");
  }
  progress.print(format_verify_summary(summary, settings.repair));
  return outcome && verified(summary) ? 0 : 1;
}

}  // namespace mkv::cli
