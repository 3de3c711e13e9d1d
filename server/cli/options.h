// The command line's shared parts: the global options (-d, -v, -r) and the option groups several
// commands take, each written once with Boost.Program_options.
#pragma once

#include "volume/pool.h"

#include "mkv/s3_credentials.h"
#include "mkv/topology.h"

#include <boost/program_options.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mkv::cli {

namespace po = boost::program_options;

// The usage line and the list of commands.
inline constexpr const char* usage_text =
    "usage: mkv -d DB -v URL[,URL...] -r N COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  serve       serve the HTTP API (see `mkv serve --help`)\n"
    "  rebuild     rebuild the index from what the volumes hold (`mkv rebuild --help`)\n"
    "  rebalance   move copies onto their placement after the volumes or N changed\n"
    "              (`mkv rebalance --help`)\n"
    "  verify      check every copy against its checksum, and repair (`mkv verify --help`)\n"
    "  gc          delete the files no record names, once old enough (`mkv gc --help`)\n";

// What the global options name: the index and the cluster.
struct Invocation {
  std::string db;     // the index's location (-d)
  Topology topology;  // -v and -r
};

// Returns -h, --version, -d, -v and -r.
po::options_description global_options();

// Returns the invocation the global options in vars describe, or prints why they are unusable
// and returns nullopt.
std::optional<Invocation> read_invocation(const po::variables_map& vars);

// Returns the S3 credentials in the file at path (mkv/s3_credentials.h); throws po::error saying
// why when it cannot be read or parsed, and warns on stderr when others may read it.
S3Credentials read_s3_credentials(const std::string& path);

// Adds --connect-timeout and --volume-timeout to options, stored into volume when parsed.
void add_volume_options(po::options_description& options, VolumeOptions& volume);

// What every job command (rebuild, rebalance) takes: how much is in flight at once and the
// volume timeouts.
struct JobOptions {
  std::size_t concurrency = 16;
  VolumeOptions volume;
};

// Returns a job command's options under caption: -h, --concurrency N (default 16, meaning what
// concurrency_what says) and the volume options, stored into job when parsed.
po::options_description job_options(const char* caption, JobOptions& job,
                                    const char* concurrency_what);

// Parses args against options into vars. Returns true to go on; false after printing help
// (then exit 0) — the caller passes usage, the text shown above the options.
bool parse_command(const std::vector<std::string>& args, const po::options_description& options,
                   po::variables_map& vars, const std::string& usage);

// Returns whether job's options are usable; prints why not.
bool check_job_options(const JobOptions& job);

}  // namespace mkv::cli
