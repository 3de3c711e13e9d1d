// The mkv command line: picks the command and hands it its arguments (see commands.h).
#include "commands.h"

#include "mkv_config.h"

#include <algorithm>
#include <exception>
#include <iostream>

namespace mkv::cli {

namespace {

// Runs command with its arguments.
int run_command(const std::string& command, const Invocation& invocation,
                const std::vector<std::string>& args) {
  if (command == "rebuild") return rebuild_command(invocation, args);
  if (command == "rebalance") return rebalance_command(invocation, args);
  if (command == "verify") return verify_command(invocation, args);
  if (command == "gc") return gc_command(invocation, args);
  return serve_command(invocation, args);
}

}  // namespace

int run(int argc, char** argv) {
  try {
    auto options = global_options();
    po::options_description hidden;
    hidden.add_options()
        ("command", po::value<std::string>())
        ("args", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(options).add(hidden);
    po::positional_options_description positional;
    positional.add("command", 1).add("args", -1);

    const auto parsed = po::command_line_parser(argc, argv)
                            .options(all)
                            .positional(positional)
                            .allow_unregistered()
                            .run();
    po::variables_map vars;
    po::store(parsed, vars);
    po::notify(vars);

    if (vars.count("version")) {
      std::cout << "mkv " MKV_VERSION " (index: " MKV_INDEX_NAME ")\n";
      return 0;
    }
    if (!vars.count("command")) {
      std::cout << usage_text << "\n" << options;
      return vars.count("help") ? 0 : 2;
    }
    auto args = po::collect_unrecognized(parsed.options, po::include_positional);
    args.erase(args.begin());  // the command itself
    const auto command = vars["command"].as<std::string>();
    if (vars.count("help")) args.push_back("--help");
    if (command != "serve" && command != "rebuild" && command != "rebalance" &&
        command != "verify" && command != "gc") {
      std::cerr << "mkv: unknown command " << command << "\n" << usage_text;
      return 2;
    }
    const bool wants_help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                            std::find(args.begin(), args.end(), "-h") != args.end();
    if (wants_help) return run_command(command, Invocation{}, {"--help"});
    auto invocation = read_invocation(vars);
    if (!invocation) return 2;
    return run_command(command, *invocation, args);
  } catch (const po::error& e) {
    std::cerr << "mkv: " << e.what() << "\n" << usage_text;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mkv: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace mkv::cli
