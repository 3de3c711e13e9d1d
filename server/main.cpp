// The mkv command line: global options (-d, -v, -r), then a command and its own options.
#include "http_server.h"
#include "rebalance.h"
#include "rebuild.h"

#include "mkv/volume.h"
#include "mkv_config.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace po = boost::program_options;

namespace {

constexpr const char* usage_text =
    "usage: mkv -d DB -v URL[,URL...] -r N COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  serve       serve the HTTP API (see `mkv serve --help`)\n"
    "  rebuild     rebuild the index from what the volumes hold (`mkv rebuild --help`)\n"
    "  rebalance   move copies onto their placement after the volumes or N changed\n"
    "              (`mkv rebalance --help`)\n";

constexpr const char* rebuild_text =
    "usage: mkv -d DB -v URLS -r N rebuild [options]\n"
    "\n"
    "Walks every volume's JSON autoindex and builds a new index of every key found (its\n"
    "volumes in placement order, its size) at DB.rebuild, then renames it over DB in one step:\n"
    "a rebuild that fails or is killed leaves DB as it was. DB is replaced only when every\n"
    "volume was read to the end; if one cannot be read, rebuild exits 1 and changes nothing.\n"
    "To rebuild without a volume that is gone for good, leave it out of -v. Nothing is written\n"
    "to or deleted from the volumes. Refuses while `mkv serve` (or another command) owns DB.\n"
    "Exit status: 0 DB replaced, 1 DB left unchanged, 2 bad command line.\n";

constexpr const char* rebalance_text =
    "usage: mkv -d DB -v URLS -r N rebalance [--dry-run] [options]\n"
    "\n"
    "Puts every key on its placement: the first N volumes of its ranking among the volumes of\n"
    "-v. For each key that is elsewhere it copies the blob (streamed) to the new volumes, then\n"
    "updates the index, then deletes the copies no longer needed, so a key always has a\n"
    "readable copy and the index never names a volume without one. Volumes that the index\n"
    "names but -v no longer lists are copied from and emptied: keep them running until\n"
    "rebalance is done. The work is journalled in DB.rebalance-journal: after a crash or\n"
    "kill -9, run rebalance again and it finishes the job. --dry-run prints the plan and\n"
    "changes nothing. Refuses while `mkv serve` (or another command) owns DB.\n"
    "Exit status: 0 every key placed, 1 some key could not be moved, 2 bad command line.\n";

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

po::options_description serve_options() {
  po::options_description options("serve options");
  options.add_options()
      ("help,h", "show this help")
      ("port,p", po::value<std::uint16_t>()->default_value(3000), "TCP port")
      ("bind", po::value<std::string>()->default_value("0.0.0.0"), "address to listen on")
      ("threads", po::value<unsigned>()->default_value(0), "IO threads (0: one per core)")
      ("connect-timeout", po::value<unsigned>()->default_value(3000),
       "volume connect timeout, milliseconds")
      ("volume-timeout", po::value<unsigned>()->default_value(30000),
       "volume read/write inactivity timeout, milliseconds")
      ("client-timeout", po::value<unsigned>()->default_value(60),
       "client idle / stalled-request timeout, seconds")
      ("max-connections", po::value<std::size_t>()->default_value(10000),
       "client connections served at once; more are closed on accept");
  return options;
}

po::options_description rebuild_options() {
  po::options_description options("rebuild options");
  options.add_options()
      ("help,h", "show this help")
      ("concurrency", po::value<std::size_t>()->default_value(16),
       "directory listings in flight at once")
      ("connect-timeout", po::value<unsigned>()->default_value(3000),
       "volume connect timeout, milliseconds")
      ("volume-timeout", po::value<unsigned>()->default_value(30000),
       "volume read/write inactivity timeout, milliseconds");
  return options;
}

po::options_description rebalance_options() {
  po::options_description options("rebalance options");
  options.add_options()
      ("help,h", "show this help")
      ("dry-run", "print the plan (on stdout) and change nothing")
      ("concurrency", po::value<std::size_t>()->default_value(16),
       "keys moved (copies, deletes) at once")
      ("connect-timeout", po::value<unsigned>()->default_value(3000),
       "volume connect timeout, milliseconds")
      ("volume-timeout", po::value<unsigned>()->default_value(30000),
       "volume read/write inactivity timeout, milliseconds");
  return options;
}

// Returns the config of the global options, or prints why they are unusable and returns
// nullopt.
std::optional<mkv::Config> global_config(const po::variables_map& vars) {
  for (const char* required : {"db", "volumes", "replicas"}) {
    if (!vars.count(required)) {
      std::cerr << "mkv: missing --" << required << "\n" << usage_text;
      return std::nullopt;
    }
  }
  mkv::Config config;
  config.db = vars["db"].as<std::string>();
  auto volumes = mkv::parse_volume_list(vars["volumes"].as<std::string>());
  if (!volumes) {
    std::cerr << "mkv: " << volumes.error().detail << "\n";
    return std::nullopt;
  }
  config.volumes = std::move(*volumes);
  for (const auto& v : config.volumes) config.volume_urls.push_back(v.url);
  config.replicas = vars["replicas"].as<std::size_t>();
  if (config.replicas < 1) {
    std::cerr << "mkv: --replicas must be at least 1\n";
    return std::nullopt;
  }
  return config;
}

int serve(mkv::Config config, const std::vector<std::string>& args) {
  const auto options = serve_options();
  po::variables_map vars;
  po::store(po::command_line_parser(args).options(options).run(), vars);
  po::notify(vars);
  if (vars.count("help")) {
    std::cout << "usage: mkv -d DB -v URLS -r N serve [options]\n\n" << options;
    return 0;
  }
  config.port = vars["port"].as<std::uint16_t>();
  config.bind = vars["bind"].as<std::string>();
  config.threads = vars["threads"].as<unsigned>();
  config.volume_options.connect_timeout = std::chrono::milliseconds(vars["connect-timeout"].as<unsigned>());
  config.volume_options.io_timeout = std::chrono::milliseconds(vars["volume-timeout"].as<unsigned>());
  config.client_timeout = std::chrono::seconds(vars["client-timeout"].as<unsigned>());
  config.max_connections = vars["max-connections"].as<std::size_t>();
  return mkv::run_server(config);
}

// Returns the --concurrency of vars, or prints why it is unusable and returns nullopt.
std::optional<std::size_t> concurrency(const po::variables_map& vars) {
  const auto n = vars["concurrency"].as<std::size_t>();
  if (n < 1) {
    std::cerr << "mkv: --concurrency must be at least 1\n";
    return std::nullopt;
  }
  return n;
}

int rebuild(mkv::Config config, const std::vector<std::string>& args) {
  const auto options = rebuild_options();
  po::variables_map vars;
  po::store(po::command_line_parser(args).options(options).run(), vars);
  po::notify(vars);
  if (vars.count("help")) {
    std::cout << rebuild_text << "\n" << options;
    return 0;
  }
  config.volume_options.connect_timeout = std::chrono::milliseconds(vars["connect-timeout"].as<unsigned>());
  config.volume_options.io_timeout = std::chrono::milliseconds(vars["volume-timeout"].as<unsigned>());
  mkv::RebuildOptions rebuild;
  const auto n = concurrency(vars);
  if (!n) return 2;
  rebuild.concurrency = *n;
  return mkv::run_rebuild(config, rebuild);
}

int rebalance(mkv::Config config, const std::vector<std::string>& args) {
  const auto options = rebalance_options();
  po::variables_map vars;
  po::store(po::command_line_parser(args).options(options).run(), vars);
  po::notify(vars);
  if (vars.count("help")) {
    std::cout << rebalance_text << "\n" << options;
    return 0;
  }
  config.volume_options.connect_timeout = std::chrono::milliseconds(vars["connect-timeout"].as<unsigned>());
  config.volume_options.io_timeout = std::chrono::milliseconds(vars["volume-timeout"].as<unsigned>());
  mkv::RebalanceOptions rebalance;
  rebalance.dry_run = vars.count("dry-run") > 0;
  const auto n = concurrency(vars);
  if (!n) return 2;
  rebalance.concurrency = *n;
  return mkv::run_rebalance(config, rebalance);
}

// Runs command with its arguments.
int run_command(const std::string& command, mkv::Config config,
                const std::vector<std::string>& args) {
  if (command == "rebuild") return rebuild(std::move(config), args);
  if (command == "rebalance") return rebalance(std::move(config), args);
  return serve(std::move(config), args);
}

}  // namespace

int main(int argc, char** argv) {
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
    if (command != "serve" && command != "rebuild" && command != "rebalance") {
      std::cerr << "mkv: unknown command " << command << "\n" << usage_text;
      return 2;
    }
    const bool wants_help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                            std::find(args.begin(), args.end(), "-h") != args.end();
    if (wants_help) return run_command(command, mkv::Config{}, {"--help"});
    auto config = global_config(vars);
    if (!config) return 2;
    return run_command(command, std::move(*config), args);
  } catch (const po::error& e) {
    std::cerr << "mkv: " << e.what() << "\n" << usage_text;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mkv: internal error: " << e.what() << "\n";
    return 1;
  }
}
