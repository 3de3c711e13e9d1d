// The soak: many clients run a mixed load (PUT, overwrite, GET + read from the volume, HEAD,
// DELETE, LIST) against a 3-volume cluster while one volume is stopped and restarted half way.
// Every answer is checked against what the client knows its keys can hold; at the end every
// key reads back as acknowledged, every indexed key has identical replicas of the recorded
// size, and the server's RSS is sampled throughout.
//
// Sized by the environment (defaults: the small run CI does):
//   MKV_SOAK_OPS          total operations         (20000; the full soak is 200000)
//   MKV_SOAK_CONCURRENCY  client connections       (50;    the full soak is 100)
//   MKV_SOAK_KEYS         keys per client          (40)
// Full soak: tests/fault/soak BUILD_DIR  (or set the variables and run fault_soak_test).
#include "fault.h"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace mkv::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::size_t env_size(const char* name, std::size_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : fallback;
}

// Returns the bytes of version v (v > 0) of key; sizes vary from 100 B to about 16 KB.
std::string value_of(const std::string& key, unsigned v) {
  const std::size_t size = 100 + (std::hash<std::string>{}(key) + v * 7919u) % 16000;
  std::string bytes = key + "@" + std::to_string(v) + "|";
  while (bytes.size() < size) bytes += static_cast<char>('a' + (bytes.size() * 31 + v) % 26);
  bytes.resize(std::max(size, key.size() + 12));
  return bytes;
}

// What a client knows of one key: the versions it may hold (0: absent). One element once a
// write was acknowledged; more after a write that failed (a failed overwrite may have taken).
using Possible = std::set<unsigned>;

struct Counters {
  std::atomic<std::size_t> ops{0}, puts{0}, gets{0}, reads{0}, heads{0}, deletes{0}, lists{0};
  std::atomic<std::size_t> put_502{0}, read_unavailable{0}, wrong{0}, transport{0};
};

// Splits "http://127.0.0.1:PORT/target" into port and target.
std::pair<std::uint16_t, std::string> split_location(const std::string& url) {
  const auto colon = url.find(':', 7);
  const auto slash = url.find('/', colon);
  return {static_cast<std::uint16_t>(std::stoul(url.substr(colon + 1, slash - colon - 1))),
          url.substr(slash)};
}

// One client: its own keys, its own connections, its own random sequence.
class Client {
 public:
  Client(std::uint16_t port, int id, std::size_t keys, Counters& counters, std::mutex& log_mutex,
         std::vector<std::string>& log)
      : port_(port), id_(id), counters_(counters), log_mutex_(log_mutex), log_(log),
        random_(static_cast<unsigned>(id) * 2654435761u + 7), mkv_(port, 15s) {
    for (std::size_t k = 0; k < keys; ++k) {
      keys_.push_back("soak/" + std::to_string(id) + "/" + std::to_string(k));
      possible_[keys_.back()] = {0};
    }
  }

  // Runs operations until the shared budget is spent.
  void run(std::atomic<long>& budget) {
    while (budget.fetch_sub(1) > 0) {
      try {
        one();
      } catch (const std::exception& e) {
        ++counters_.transport;
        complain(std::string("transport: ") + e.what());
        mkv_ = Connection(port_, 15s);
      }
      ++counters_.ops;
    }
  }

  const std::map<std::string, Possible>& possible() const { return possible_; }

 private:
  void complain(std::string what) {
    std::lock_guard lock(log_mutex_);
    if (log_.size() < 50) log_.push_back(std::move(what));
  }
  void wrong(const std::string& what) {
    ++counters_.wrong;
    complain(what);
  }

  bool may_be_absent(const std::string& key) { return possible_[key].contains(0); }
  bool may_be_present(const std::string& key) {
    const auto& p = possible_[key];
    return p.size() > 1 || !p.contains(0);
  }

  void one() {
    const std::string& key = keys_[random_() % keys_.size()];
    const std::string target = target_of(key);
    const unsigned dice = random_() % 100;
    if (dice < 40) {
      ++counters_.puts;
      const unsigned v = ++next_version_[key];
      const auto r = mkv_.request("PUT", target, value_of(key, v));
      if (r.status == 201) {
        possible_[key] = {v};
      } else if (r.status == 502) {
        ++counters_.put_502;
        possible_[key].insert(v);
      } else {
        wrong("PUT " + key + ": " + std::to_string(r.status) + " " + r.body);
      }
    } else if (dice < 75) {
      ++counters_.gets;
      const auto r = mkv_.request("GET", target);
      if (r.status == 404) {
        if (!may_be_absent(key)) wrong("GET " + key + ": 404 for a stored key");
        possible_[key] = {0};
        return;
      }
      if (r.status != 302) return wrong("GET " + key + ": " + std::to_string(r.status));
      if (!may_be_present(key)) return wrong("GET " + key + ": 302 for an absent key");
      if (dice % 4 != 0) return;
      ++counters_.reads;
      const auto [port, path] = split_location(r.header("location"));
      auto [it, inserted] = volumes_.try_emplace(port, port, 5s);
      Response blob;
      try {
        blob = it->second.request("GET", path);
      } catch (const std::exception&) {
        ++counters_.read_unavailable;  // the volume is down: the client sees it directly
        volumes_.erase(port);
        return;
      }
      if (blob.status != 200) return wrong("read " + key + ": volume answered " + std::to_string(blob.status));
      bool matches = false;
      for (unsigned v : possible_[key]) matches = matches || (v && blob.body == value_of(key, v));
      if (!matches) wrong("read " + key + ": bytes match no version it may hold");
    } else if (dice < 85) {
      ++counters_.heads;
      const auto r = mkv_.request("HEAD", target);
      if (r.status == 404) {
        if (!may_be_absent(key)) wrong("HEAD " + key + ": 404 for a stored key");
        possible_[key] = {0};
        return;
      }
      if (r.status != 200) return wrong("HEAD " + key + ": " + std::to_string(r.status));
      bool matches = false;
      for (unsigned v : possible_[key]) {
        matches = matches || (v && r.header("content-length") == std::to_string(value_of(key, v).size()));
      }
      if (!matches) wrong("HEAD " + key + ": size of no version it may hold");
    } else if (dice < 95) {
      ++counters_.deletes;
      const auto r = mkv_.request("DELETE", target);
      if (r.status == 204) {
        if (!may_be_present(key)) wrong("DELETE " + key + ": 204 for an absent key");
      } else if (r.status == 404) {
        if (!may_be_absent(key)) wrong("DELETE " + key + ": 404 for a stored key");
      } else {
        return wrong("DELETE " + key + ": " + std::to_string(r.status));
      }
      possible_[key] = {0};
    } else {
      ++counters_.lists;
      const std::string prefix = "soak/" + std::to_string(id_) + "/";
      const auto r = mkv_.request("GET", "/?limit=10000&prefix=" + mkv::encode_key(prefix));
      if (r.status != 200) return wrong("LIST: " + std::to_string(r.status));
      std::set<std::string> listed;
      const auto page = boost::json::parse(r.body);
      for (const auto& k : page.at("keys").as_array()) {
        listed.emplace(k.as_string());
      }
      for (const auto& k : keys_) {
        if (listed.contains(k) && !may_be_present(k)) wrong("LIST shows absent key " + k);
        if (!listed.contains(k) && !may_be_absent(k)) wrong("LIST misses stored key " + k);
      }
    }
  }

  std::uint16_t port_;
  int id_;
  Counters& counters_;
  std::mutex& log_mutex_;
  std::vector<std::string>& log_;
  std::mt19937 random_;
  Connection mkv_;
  std::map<std::uint16_t, Connection> volumes_;
  std::vector<std::string> keys_;
  std::map<std::string, Possible> possible_;
  std::map<std::string, unsigned> next_version_;
};

}  // namespace

TEST_CASE("soak: mixed load with a volume restarted half way loses no acknowledged write and "
          "leaves no replica divergent") {
  const std::size_t total = env_size("MKV_SOAK_OPS", 20000);
  const std::size_t concurrency = env_size("MKV_SOAK_CONCURRENCY", 50);
  const std::size_t keys = env_size("MKV_SOAK_KEYS", 40);
  Cluster c(3, 2, {"--volume-timeout", "5000", "--connect-timeout", "1000"});
  const pid_t server = c.server->pid();

  Counters counters;
  std::mutex log_mutex;
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Client>> clients;
  for (std::size_t i = 0; i < concurrency; ++i) {
    clients.push_back(std::make_unique<Client>(c.port(), static_cast<int>(i), keys, counters,
                                               log_mutex, log));
  }
  std::atomic<long> budget{static_cast<long>(total)};
  std::atomic<bool> done{false};

  // RSS every half second, with the operation count it was taken at.
  std::vector<std::pair<std::size_t, long>> rss;
  std::thread sampler([&] {
    while (!done) {
      rss.emplace_back(counters.ops.load(), rss_kib(server));
      std::this_thread::sleep_for(500ms);
    }
  });
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (auto& client : clients) threads.emplace_back([&, p = client.get()] { p->run(budget); });

  // Half way: stop volume 1 for two seconds, then start it again on the same port and data.
  // (From this thread: the harness ties a child's life to the thread that started it.)
  std::string fault_note;
  while (counters.ops < total / 2) std::this_thread::sleep_for(10ms);
  const std::size_t stopped_at = counters.ops;
  c.volumes[1]->stop();
  std::this_thread::sleep_for(2s);
  c.volumes[1]->start();
  fault_note = "volume 1 stopped at op " + std::to_string(stopped_at) + ", started again at op " +
               std::to_string(counters.ops.load());

  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  done = true;
  sampler.join();

  std::ostringstream report;
  report << counters.ops << " ops in " << seconds << " s (" << static_cast<long>(counters.ops / seconds)
         << "/s) at " << concurrency << " connections: " << counters.puts << " PUT ("
         << counters.put_502 << " answered 502 during the fault), " << counters.gets << " GET ("
         << counters.reads << " read from a volume, " << counters.read_unavailable
         << " of them unavailable during the fault), " << counters.heads << " HEAD, "
         << counters.deletes << " DELETE, " << counters.lists << " LIST; " << counters.wrong
         << " wrong answers, " << counters.transport << " transport errors\n"
         << fault_note << "\nserver RSS (KiB) by op:";
  for (std::size_t i = 0; i < rss.size(); i += std::max<std::size_t>(1, rss.size() / 20)) {
    report << " " << rss[i].first << ":" << rss[i].second;
  }
  if (!rss.empty()) report << " " << rss.back().first << ":" << rss.back().second;
  MESSAGE(report.str());
  for (const auto& line : log) MESSAGE(line);
  CHECK(counters.wrong == 0);
  CHECK(counters.transport == 0);
  CHECK(!fault_note.empty());
  CHECK(counters.put_502 > 0);

  // RSS after warm-up (a quarter of the run) against the end: flat means it grew by less than
  // a fifth plus 16 MiB (allocator noise, pools of volume connections).
  std::vector<long> after_warmup;
  for (const auto& [ops, kib] : rss) {
    if (ops >= total / 4) after_warmup.push_back(kib);
  }
  if (after_warmup.size() >= 2) {
    const long first = after_warmup.front();
    const long peak = *std::max_element(after_warmup.begin(), after_warmup.end());
    MESSAGE("RSS after warm-up: " << first << " KiB, peak " << peak << " KiB, last "
                                  << after_warmup.back() << " KiB");
#if defined(__SANITIZE_ADDRESS__)
    MESSAGE("ASan build: its quarantine of freed memory (256 MiB) grows RSS; not checked");
#else
    CHECK(after_warmup.back() < first + first / 5 + 16 * 1024);
#endif
  }

  // Every key reads back as its client knows it.
  {
    const std::string log_text = c.server->log();
    INFO("volumes: " << join_urls(c.urls()) << "; mkv on port " << c.port() << ", its log ends:\n"
                     << log_text.substr(log_text.size() > 3000 ? log_text.size() - 3000 : 0));
    for (const auto& client : clients) {
      for (const auto& [key, possible] : client->possible()) {
        CAPTURE(key);
        const auto redirect = c.get(target_of(key));
        if (redirect.status == 404) {
          CHECK(possible.contains(0));
          continue;
        }
        REQUIRE(redirect.status == 302);
        const std::string bytes = request_url(redirect.header("location")).body;
        bool matches = false;
        for (unsigned v : possible) matches = matches || (v && bytes == value_of(key, v));
        CHECK_MESSAGE(matches, "lost or corrupted: " << key);
      }
  }

  }
  // Zero replica divergence: every indexed key's replicas are identical and of its size.
  CHECK(c.server->stop() == 0);
  const auto index = read_index(c.db());
  (void)check_index_matches_volumes(c, index);
  const auto leftovers = unindexed_files(c, index);
  MESSAGE(index.size() << " keys indexed; " << leftovers.size()
                       << " unindexed files (copies a DELETE could not remove from the stopped "
                          "volume: rebuild's to reconcile)");
  for (const auto& f : leftovers) {
    CAPTURE(f);
    CHECK(f.starts_with(c.volumes[1]->url() + "/"));
  }
}
