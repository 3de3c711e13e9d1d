// A small cluster for integration tests: N real nginx volumes and a real `mkv serve`.
#pragma once

#include "harness.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace mkv::test {

struct Cluster {
  TempDir dir;
  std::vector<std::unique_ptr<Volume>> volumes;
  std::unique_ptr<Server> server;

  // Starts `count` volumes (healthy, or all with `fault`) and mkv with `replicas` and extra
  // serve arguments. With a link_secret the volumes serve only signed URLs, and mkv signs with
  // the secret, written to secret_file() (mode 600).
  explicit Cluster(std::size_t count = 3, unsigned replicas = 2,
                   std::vector<std::string> extra = {}, Fault fault = Fault::none,
                   const std::string& link_secret = {}) {
    for (std::size_t i = 0; i < count; ++i) {
      volumes.push_back(std::make_unique<Volume>(fault, 1, link_secret));
    }
    if (!link_secret.empty()) {
      {
        std::ofstream out(secret_file());
        out << link_secret << '\n';
      }
      std::filesystem::permissions(secret_file(), std::filesystem::perms::owner_read |
                                                      std::filesystem::perms::owner_write);
      extra.push_back("--redirect-secret");
      extra.push_back(secret_file().string());
    }
    server = std::make_unique<Server>(db(), urls(), replicas, std::move(extra));
  }

  std::filesystem::path db() const { return dir.path() / "index.db"; }
  std::filesystem::path secret_file() const { return dir.path() / "link.secret"; }

  std::vector<std::string> urls() const {
    std::vector<std::string> out;
    for (const auto& v : volumes) out.push_back(v->url());
    return out;
  }

  std::uint16_t port() const { return server->port(); }

  Response put(std::string_view target, std::string_view body, const Headers& headers = {}) {
    return request(port(), "PUT", target, body, headers);
  }
  Response get(std::string_view target) { return request(port(), "GET", target); }
  Response head(std::string_view target) { return request(port(), "HEAD", target); }
  Response del(std::string_view target) { return request(port(), "DELETE", target); }

  // Returns the blob of target by following the redirect, as a client would.
  std::string fetch(std::string_view target) {
    const auto redirect = get(target);
    REQUIRE(redirect.status == 302);
    const auto blob = request_url(redirect.header("location"));
    REQUIRE(blob.status == 200);
    return blob.body;
  }

  // Returns the volumes holding a file at key (by index into volumes).
  std::vector<std::size_t> holders(std::string_view key) const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < volumes.size(); ++i) {
      if (volumes[i]->has(key)) out.push_back(i);
    }
    return out;
  }

  // Returns every regular file on every volume, as "volume-url/path".
  std::vector<std::string> all_files() const {
    std::vector<std::string> out;
    for (const auto& v : volumes) {
      for (auto& f : v->files()) out.push_back(v->url() + "/" + f);
    }
    return out;
  }
};

}  // namespace mkv::test
