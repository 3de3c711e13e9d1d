// synthetic_volume: serves one or more synthetic volumes (synthetic_volume.h) from one process,
// for bench/rebuild/run.
//
//   synthetic_volume --keys N [--seed S] [--per-dir P] [--fanout F] [--replicas R]
//                    [--faults] [--markers] --volumes URL,URL,... [--serve I,J,...]
//
// Serves the volumes numbered I, J, ... of --volumes (all by default) on the ports of their
// URLs (127.0.0.1), one thread each, and prints "ready" once listening.
#include "synthetic_volume.h"

#include <boost/asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) out.push_back(part);
  return out;
}

int usage() {
  std::cerr << "usage: synthetic_volume --keys N [--seed S] [--per-dir P] [--fanout F] "
               "[--replicas R] [--faults] [--markers] --volumes URL,... [--serve I,...]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  auto spec = std::make_shared<mkv::synth::TreeSpec>();
  std::vector<std::size_t> serve;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    const auto value = [&]() -> std::string { return a + 1 < argc ? argv[++a] : ""; };
    if (arg == "--keys") {
      spec->keys = std::stoull(value());
    } else if (arg == "--seed") {
      spec->seed = std::stoull(value());
    } else if (arg == "--per-dir") {
      spec->per_dir = std::stoull(value());
    } else if (arg == "--fanout") {
      spec->fanout = std::stoull(value());
    } else if (arg == "--replicas") {
      spec->replicas = std::stoull(value());
    } else if (arg == "--faults") {
      spec->faults = true;
    } else if (arg == "--markers") {
      spec->markers = true;
    } else if (arg == "--volumes") {
      spec->urls = split(value());
    } else if (arg == "--broken") {
      spec->broken = value();
    } else if (arg == "--serve") {
      for (const auto& i : split(value())) serve.push_back(std::stoull(i));
    } else {
      return usage();
    }
  }
  if (spec->urls.empty() || spec->per_dir < 3 || spec->fanout == 0 || spec->fanout > 1000) {
    return usage();
  }
  if (serve.empty()) {
    for (std::size_t i = 0; i < spec->urls.size(); ++i) serve.push_back(i);
  }
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors;
  for (const std::size_t i : serve) {
    const std::string& url = spec->urls.at(i);
    const auto colon = url.rfind(':');
    const auto port = static_cast<unsigned short>(std::stoul(url.substr(colon + 1)));
    auto& ioc = *contexts.emplace_back(std::make_unique<boost::asio::io_context>(1));
    auto& acceptor = *acceptors.emplace_back(std::make_unique<boost::asio::ip::tcp::acceptor>(
        ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port)));
    mkv::synth::serve_volume(acceptor, spec, i);
  }
  for (auto& ioc : contexts) threads.emplace_back([&ioc] { ioc->run(); });
  std::cout << "ready" << std::endl;
  for (auto& t : threads) t.join();
}
