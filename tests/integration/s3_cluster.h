// A cluster whose mkv also serves the S3 API (serve --s3-port) for one access key, and the S3
// clients' common needs, shared by the S3 integration suites.
#pragma once

#include "cluster.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mkv::test {

inline constexpr const char* access_key = "AKIDEXAMPLE";
inline constexpr const char* secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Writes text to path with mode 600.
inline void write_private(const std::filesystem::path& path, const std::string& text) {
  {
    std::ofstream out(path);
    out << text;
  }
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// Returns the bytes of the file at path.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Writes bytes to the file at path (creating its directories).
inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// A cluster whose mkv also serves the S3 API, for the one access key above.
struct S3Cluster {
  TempDir config;
  std::uint16_t s3_port = free_port();
  Cluster cluster;

  // With a link_secret the volumes serve only URLs mkv signed (as in signed_test.cpp); extra
  // serve arguments come after the S3 ones (e.g. {"--s3-upload-expiry", "2"}).
  explicit S3Cluster(const std::string& link_secret = {}, std::vector<std::string> extra = {})
      : cluster(3, 2, s3_args(std::move(extra)), Fault::none, link_secret) {}

  std::vector<std::string> s3_args(std::vector<std::string> extra = {}) {
    const std::filesystem::path credentials = config.path() / "credentials";
    write_private(credentials,
                  "# the test's user\n" + std::string(access_key) + " " + secret_key + "\n");
    std::vector<std::string> args = {"--s3-port", std::to_string(s3_port), "--s3-credentials",
                                     credentials.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(s3_port); }

  // Runs Debian's AWS CLI (not whatever `aws` comes first on PATH) against the S3 port.
  RunResult aws(std::vector<std::string> args) const {
    std::vector<std::string> all = {"AWS_ACCESS_KEY_ID=" + std::string(access_key),
                                    "AWS_SECRET_ACCESS_KEY=" + std::string(secret_key),
                                    "AWS_DEFAULT_REGION=us-east-1",
                                    "AWS_CONFIG_FILE=/dev/null",
                                    "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
                                    "/usr/bin/aws",
                                    "--endpoint-url",
                                    endpoint()};
    all.insert(all.end(), args.begin(), args.end());
    return run_program("/usr/bin/env", all, std::chrono::seconds(120));
  }

  // Runs Debian's rclone with the remote "mkv:" set up as the README says (no config file).
  // Without AWS_CA_BUNDLE: rclone's AWS SDK fails on it ("unable to load custom CA bundle").
  RunResult rclone(std::vector<std::string> args) const {
    std::vector<std::string> all = {
        "-u",
        "AWS_CA_BUNDLE",
        "RCLONE_CONFIG=" + (config.path() / "rclone.conf").string(),
        "RCLONE_CONFIG_MKV_TYPE=s3",
        "RCLONE_CONFIG_MKV_PROVIDER=Other",
        "RCLONE_CONFIG_MKV_ACCESS_KEY_ID=" + std::string(access_key),
        "RCLONE_CONFIG_MKV_SECRET_ACCESS_KEY=" + std::string(secret_key),
        "RCLONE_CONFIG_MKV_ENDPOINT=" + endpoint(),
        "RCLONE_CONFIG_MKV_REGION=us-east-1",
        "/usr/bin/rclone"};
    all.insert(all.end(), args.begin(), args.end());
    return run_program("/usr/bin/env", all, std::chrono::seconds(120));
  }

  // Runs Debian's s3cmd with a configuration file as the README shows it.
  RunResult s3cmd(std::vector<std::string> args) const {
    const std::filesystem::path file = config.path() / "s3cfg";
    const std::string host = "127.0.0.1:" + std::to_string(s3_port);
    write_private(file, "[default]\naccess_key = " + std::string(access_key) + "\nsecret_key = " +
                            secret_key + "\nhost_base = " + host + "\nhost_bucket = " + host +
                            "\nuse_https = False\nsignature_v2 = False\n");
    std::vector<std::string> all = {"--config", file.string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_program("/usr/bin/s3cmd", all, std::chrono::seconds(120));
  }
};

}  // namespace mkv::test
