// The command line's shared parts (see options.h).
#include "options.h"

#include "mkv/signed_link.h"
#include "mkv/volume.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

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

namespace {

// Returns the secret in the file at path (trailing whitespace dropped); refuses a file others
// can read or write, an empty one, and a secret nginx's configuration could not hold as it is.
std::string read_link_secret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw po::error("--redirect-secret " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    throw po::error("--redirect-secret " + path +
                    " is readable or writable by others: chmod o-rw it first");
  }
  std::ifstream in(path, std::ios::binary);
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw po::error("--redirect-secret " + path + ": cannot read it");
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  if (secret.empty()) throw po::error("--redirect-secret " + path + " is empty");
  if (!acceptable_link_secret(secret)) {
    throw po::error("--redirect-secret " + path +
                    ": the secret must be 16 to 256 characters of A-Z a-z 0-9 + / = _ - "
                    "(e.g. head -c 32 /dev/urandom | base64)");
  }
  return secret;
}

}  // namespace

S3Credentials read_s3_credentials(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw po::error("--s3-credentials " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    std::cerr << "mkv: warning: --s3-credentials " << path
              << " is readable or writable by others (chmod o-rw it)\n";
  }
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw po::error("--s3-credentials " + path + ": cannot read it");
  auto credentials = parse_s3_credentials(text);
  if (!credentials) {
    throw po::error("--s3-credentials " + path + ": " + credentials.error().message);
  }
  return std::move(*credentials);
}

void add_volume_options(po::options_description& options, VolumeOptions& volume) {
  options.add_options()
      ("redirect-secret",
       po::value<std::string>()->value_name("FILE")->notifier(
           [&volume](const std::string& path) { volume.signing.secret = read_link_secret(path); }),
       "sign every redirect and every volume request with the secret in FILE (shared with "
       "volumes that check nginx secure_link; see docs/security.md)")
      ("redirect-ttl",
       po::value<unsigned>()->default_value(300)->notifier([&volume](unsigned seconds) {
         if (seconds == 0) throw po::error("--redirect-ttl must be at least 1 second");
         volume.signing.ttl = std::chrono::seconds(seconds);
       }),
       "seconds a signed redirect stays good")
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
