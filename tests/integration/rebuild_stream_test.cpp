// rebuild against synthetic volumes (tests/synthetic): every key of a tree whose listings come
// in no particular order is indexed with exactly the copies the volumes hold, bucket markers
// included; the old index's checksums are kept where the size matches; a directory that cannot
// be listed in the middle of the walk leaves the old index as it was. (bench/rebuild/run runs the
// same volumes at millions of keys and prints rates and memory.)
#include "harness.h"
#include "synthetic_volume.h"

#include "mkv/rebuild.h"
#include "mkv/rebuild_report.h"
#include "mkv_config.h"

#include "test_index.h"

#include <doctest/doctest.h>

#include <boost/asio.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace mkv::test;
namespace fs = std::filesystem;
namespace net = boost::asio;

namespace {

// Synthetic volumes served from one thread of this process, on free ports of 127.0.0.1.
class SyntheticVolumes {
 public:
  SyntheticVolumes(std::size_t count, mkv::synth::TreeSpec spec)
      : spec_(std::make_shared<mkv::synth::TreeSpec>(std::move(spec))) {
    for (std::size_t i = 0; i < count; ++i) {
      auto& a = acceptors_.emplace_back(
          ioc_, net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
      spec_->urls.push_back("http://127.0.0.1:" + std::to_string(a.local_endpoint().port()));
    }
    for (std::size_t i = 0; i < count; ++i) mkv::synth::serve_volume(acceptors_[i], spec_, i);
    start();
  }
  ~SyntheticVolumes() { stop(); }

  const mkv::synth::TreeSpec& spec() const { return *spec_; }
  std::string urls() const { return join_urls(spec_->urls); }

  // Makes the listing of prefix answer 500 from now on ("" for none).
  void break_listing(std::string prefix) {
    stop();
    spec_->broken = std::move(prefix);
    start();
  }

 private:
  void start() {
    ioc_.restart();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void stop() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  net::io_context ioc_{1};
  net::executor_work_guard<net::io_context::executor_type> guard_ = net::make_work_guard(ioc_);
  std::vector<net::ip::tcp::acceptor> acceptors_;
  std::shared_ptr<mkv::synth::TreeSpec> spec_;
  std::thread thread_;
};

// Returns the index rebuild should make of spec's volumes, and its summary.
std::map<std::string, mkv::Record> expected_index(const mkv::synth::TreeSpec& spec,
                                                  mkv::RebuildSummary& summary) {
  std::map<std::string, mkv::Record> records;
  const auto add = [&](std::string key, std::optional<std::uint64_t> i) {
    auto k = mkv::rebuild_key(key, mkv::synth::copies_of(spec, key, i), spec.urls, spec.replicas);
    summary = mkv::tally(summary, k);
    records.emplace(std::move(k.key), std::move(k.record));
  };
  for (std::uint64_t i = 0; i < spec.keys; ++i) add(mkv::synth::key_of(spec, i), i);
  for (std::uint64_t t = 0; t < mkv::synth::tops(spec); ++t) {
    if (mkv::synth::is_marker_top(spec, t)) add(mkv::synth::marker_of(t), std::nullopt);
  }
  return records;
}

}  // namespace

TEST_CASE("rebuild indexes every key of synthetic volumes with the copies they hold") {
  mkv::synth::TreeSpec spec;
  spec.keys = 20'000;
  spec.seed = 7;
  spec.per_dir = 50;
  spec.fanout = 16;
  spec.replicas = 2;
  spec.faults = true;
  spec.markers = true;
  SyntheticVolumes volumes(3, spec);
  TempDir dir;
  const fs::path db = dir.path() / "index.db";
  const auto args = [&](std::vector<std::string> more) {
    std::vector<std::string> all = {"-d", db.string(), "-v", volumes.urls(), "-r", "2", "rebuild"};
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };

  mkv::RebuildSummary summary;
  const auto expected = expected_index(volumes.spec(), summary);
  summary.skipped = 1;  // volume 0 lists one name that is not a key
  REQUIRE(expected.size() == mkv::synth::total_keys(volumes.spec()));
  REQUIRE(summary.under_replicated > 0);
  REQUIRE(summary.misplaced > 0);
  REQUIRE(summary.size_conflicts > 0);

  const auto rebuilt = run(args({"--concurrency", "4"}), std::chrono::minutes(5));
  INFO(rebuilt.err);
  REQUIRE(rebuilt.exit_code == 0);
  CHECK(rebuilt.err.find(mkv::format_rebuild_summary(summary, 2)) != std::string::npos);
  CHECK(rebuilt.err.find("3/3 volumes walked") != std::string::npos);
  const auto records = read_index(db);
  CHECK(records.size() == expected.size());
  CHECK(records == expected);

  SUBCASE("the old index's checksums are kept where the size matches") {
    std::vector<mkv::Write> writes;
    std::uint64_t kept = 0;
    for (const auto& [key, record] : records) {
      if (writes.size() % 3 == 0) {
        mkv::Record r = record;
        r.md5 = mkv::Md5{1, 2, 3};
        r.meta = "content-type: x";
        // Every ninth key's old record has another size: its checksum cannot be kept.
        if (writes.size() % 9 == 0) {
          r.size += 1;
        } else {
          kept += 1;
        }
        writes.push_back({key, r});
      } else {
        writes.push_back({key, record});
      }
    }
    {
      auto index = TestIndex::open(index_location(db));
      REQUIRE(index.has_value());
      REQUIRE(index->apply(writes).has_value());
    }
    const auto again = run(args({}), std::chrono::minutes(5));
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.err.find("(kept from the old index: " + std::to_string(kept) + ")") !=
          std::string::npos);
    const auto after = read_index(db);
    REQUIRE(after.size() == writes.size());
    for (const auto& w : writes) {
      const mkv::Record& now = after.at(w.key);
      CHECK(now.volumes == expected.at(w.key).volumes);
      CHECK(now.size == expected.at(w.key).size);
      const bool keep = w.record->md5 && w.record->size == now.size;
      CHECK(now.md5.has_value() == keep);
      CHECK((now.meta == "content-type: x") == keep);
    }
  }

  SUBCASE("a directory that cannot be listed mid-walk leaves the old index as it was") {
    volumes.break_listing("t0007/s005/");
    const auto failed = run(args({}), std::chrono::minutes(5));
    INFO(failed.err);
    CHECK(failed.exit_code == 1);
    CHECK(failed.err.find("GET /t0007/s005/ answered 500") != std::string::npos);
    CHECK(failed.err.find("was left unchanged") != std::string::npos);
    CHECK(read_index(db) == records);
    if (!index_on_server()) CHECK(!fs::exists(db.string() + ".rebuild"));
  }
}
