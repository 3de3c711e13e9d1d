// The command line's shared parts (see options.h).
#include "options.h"

#include "mkv/volume.h"

#include <chrono>
#include <iostream>

namespace mkv::cli {

po::options_description global_options() {
  po::options_description options("global options");
  options.add_options()
      ("help,h", "show this help")
      ("version", "show the version")
      ("db,d", po::value<std::string>()->value_name("DB"), "index file")
      ("volumes,v", po::value<std::string>()->value_name("URLS"),
       "comma-separated volume URLs, e.g. http://vol1:8080,http://vol2:8080")
      ("replicas,r", po::value<std::size_t>()->value_name("N"),
       "copies of every blob, on N distinct volumes");
  return options;
}

std::optional<Invocation> read_invocation(const po::variables_map& vars) {
  for (const char* required : {"db", "volumes", "replicas"}) {
    if (!vars.count(required)) {
      std::cerr << "mkv: missing --" << required << "\n" << usage_text;
      return std::nullopt;
    }
  }
  auto volumes = parse_volume_list(vars["volumes"].as<std::string>());
  if (!volumes) {
    std::cerr << "mkv: " << volumes.error().detail << "\n";
    return std::nullopt;
  }
  const auto replicas = vars["replicas"].as<std::size_t>();
  if (replicas < 1) {
    std::cerr << "mkv: --replicas must be at least 1\n";
    return std::nullopt;
  }
  return Invocation{vars["db"].as<std::string>(), make_topology(std::move(*volumes), replicas)};
}

void add_volume_options(po::options_description& options, VolumeOptions& volume) {
  options.add_options()
      ("connect-timeout",
       po::value<unsigned>()->default_value(3000)->notifier(
           [&volume](unsigned ms) { volume.connect_timeout = std::chrono::milliseconds(ms); }),
       "volume connect timeout, milliseconds")
      ("volume-timeout",
       po::value<unsigned>()->default_value(30000)->notifier(
           [&volume](unsigned ms) { volume.io_timeout = std::chrono::milliseconds(ms); }),
       "volume read/write inactivity timeout, milliseconds");
}

po::options_description job_options(const char* caption, JobOptions& job,
                                    const char* concurrency_what) {
  po::options_description options(caption);
  options.add_options()
      ("help,h", "show this help")
      ("concurrency", po::value<std::size_t>(&job.concurrency)->default_value(16),
       concurrency_what);
  add_volume_options(options, job.volume);
  return options;
}

bool parse_command(const std::vector<std::string>& args, const po::options_description& options,
                   po::variables_map& vars, const std::string& usage) {
  po::store(po::command_line_parser(args).options(options).run(), vars);
  if (vars.count("help")) {
    std::cout << usage << "\n" << options;
    return false;
  }
  po::notify(vars);
  return true;
}

bool check_job_options(const JobOptions& job) {
  if (job.concurrency >= 1) return true;
  std::cerr << "mkv: --concurrency must be at least 1\n";
  return false;
}

}  // namespace mkv::cli
