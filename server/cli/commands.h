// The mkv command line: global options (-d, -v, -r), then a command and its own options. Each
// command parses its options, takes what it needs, and drives the code that does the work
// (serve.h, jobs/), printing what that code reports.
#pragma once

#include "options.h"

#include <string>
#include <vector>

namespace mkv::cli {

// Runs the whole command line and returns the process exit code: 0 done, 1 not done, 2 a bad
// command line.
int run(int argc, char** argv);

// The commands, given the global options (empty when only help is asked for) and their own
// arguments. Each returns the exit code.
int serve_command(const Invocation& invocation, const std::vector<std::string>& args);
int rebuild_command(const Invocation& invocation, const std::vector<std::string>& args);
int rebalance_command(const Invocation& invocation, const std::vector<std::string>& args);
int verify_command(const Invocation& invocation, const std::vector<std::string>& args);
int gc_command(const Invocation& invocation, const std::vector<std::string>& args);

}  // namespace mkv::cli
