// The mkv command line: global options (-d, -v, -r), then a command and its own options.
#include "http_server.h"

#include "mkv/volume.h"
#include "mkv_config.h"

#include <boost/program_options.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace po = boost::program_options;

namespace {

constexpr const char* usage_text =
    "usage: mkv -d DB -v URL[,URL...] -r N COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  serve       serve the HTTP API (see `mkv serve --help`)\n";

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
    if (command != "serve") {
      std::cerr << "mkv: unknown command " << command << "\n" << usage_text;
      return 2;
    }
    const bool wants_help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                            std::find(args.begin(), args.end(), "-h") != args.end();
    if (wants_help) return serve(mkv::Config{}, {"--help"});
    auto config = global_config(vars);
    if (!config) return 2;
    return serve(std::move(*config), args);
  } catch (const po::error& e) {
    std::cerr << "mkv: " << e.what() << "\n" << usage_text;
    return 2;
  }
}
