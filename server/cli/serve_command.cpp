// `mkv serve`: its options, then the server (serve.h).
#include "commands.h"

#include "serve.h"

namespace mkv::cli {

int serve_command(const Invocation& invocation, const std::vector<std::string>& args) {
  ServerSettings settings;
  unsigned client_timeout = 60;
  unsigned health_interval = 1000;
  unsigned repair_interval = 10;
  po::options_description options("serve options");
  options.add_options()
      ("help,h", "show this help")
      ("port,p", po::value<std::uint16_t>(&settings.port)->default_value(3000), "TCP port")
      ("bind", po::value<std::string>(&settings.bind)->default_value("0.0.0.0"),
       "address to listen on")
      ("threads", po::value<unsigned>(&settings.threads)->default_value(0),
       "IO threads (0: one per core)");
  add_volume_options(options, settings.volume_options);
  options.add_options()
      ("client-timeout", po::value<unsigned>(&client_timeout)->default_value(60),
       "client idle / stalled-request timeout, seconds")
      ("max-connections", po::value<std::size_t>(&settings.max_connections)->default_value(10000),
       "client connections served at once; more are closed on accept")
      ("health-interval", po::value<unsigned>(&health_interval)->default_value(1000),
       "volume probes, milliseconds apart (0: no probes)")
      ("write-fallback", po::bool_switch(&settings.write_fallback),
       "when a placement volume is down or unwritable, write to the next volumes that are up "
       "instead of failing the PUT")
      ("auto-repair",
       po::value<bool>(&settings.auto_repair)->default_value(true)->implicit_value(true),
       "move the keys marked for repair (written with --write-fallback, or short of copies) "
       "back onto their placement once its volumes are up (=off: leave them)")
      ("repair-interval", po::value<unsigned>(&repair_interval)->default_value(10),
       "seconds between self-healing passes")
      ("admin-bind", po::value<std::string>(&settings.admin_bind)->default_value("127.0.0.1"),
       "address of the admin listener (GET /metrics; the online jobs the CLI hands over). "
       "Unauthenticated: keep it on loopback or a private network")
      ("admin-port", po::value<std::uint16_t>(&settings.admin_port)->default_value(0),
       "port of the admin listener (0: any free port; the address is written to DB.admin)")
      ("s3-port", po::value<std::uint16_t>(&settings.s3.port)->default_value(0),
       "serve the S3 API (path-style, SigV4) on this port (0: off); needs --s3-credentials")
      ("s3-bind", po::value<std::string>(&settings.s3.bind),
       "address of the S3 listener (default: the same as --bind)")
      ("s3-credentials",
       po::value<std::string>()->value_name("FILE")->notifier([&settings](const std::string& path) {
         settings.s3.credentials = read_s3_credentials(path);
       }),
       "the S3 users: one 'ACCESS_KEY_ID SECRET_ACCESS_KEY' per line")
      ("s3-region", po::value<std::string>(&settings.s3.region)->default_value("us-east-1"),
       "the region GetBucketLocation names (requests may be signed for any region)")
      ("s3-upload-expiry",
       po::value<unsigned>()->default_value(86400)->notifier([&settings](unsigned seconds) {
         if (seconds == 0) throw po::error("--s3-upload-expiry must be at least 1 second");
         settings.s3.upload_expiry = std::chrono::seconds(seconds);
       }),
       "seconds after which an unfinished multipart upload is removed with its parts");
  po::variables_map vars;
  if (!parse_command(args, options, vars, "usage: mkv -d DB -v URLS -r N serve [options]\n")) {
    return 0;
  }
  if (settings.s3.port != 0 && settings.s3.credentials.empty()) {
    std::cerr << "mkv: --s3-port needs --s3-credentials FILE (one 'ACCESS_KEY_ID SECRET' per "
                 "line)\n";
    return 1;
  }
  settings.client_timeout = std::chrono::seconds(client_timeout);
  settings.health_interval = std::chrono::milliseconds(health_interval);
  settings.repair_interval = std::chrono::seconds(repair_interval);
  return run_server(invocation.db, invocation.topology, settings);
}

}  // namespace mkv::cli
