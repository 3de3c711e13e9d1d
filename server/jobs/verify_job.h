// A verify as a steppable job: reads every copy each record names (under a prefix), streams it
// through MD5 and classifies it (mkv/verify.h); learns the checksum of records that had none
// when their copies agree; with repair, replaces every bad copy from a good one through a
// staging file whose MD5 is checked before it is moved into place. A copy that reads bad is
// read again under its key's write lock, and judged and repaired only there, so a PUT or
// DELETE racing the check (inside a running server) is never taken for damage and never
// undone. It holds no terminal output: its driver reads summary() and take_notes().
#pragma once

#include "index/backend.h"
#include "index/key_locks.h"
#include "index/writer.h"
#include "jobs/throttle.h"
#include "volume/client.h"

#include "mkv/verify.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mkv {

struct VerifySettings {
  bool repair = false;
  std::string prefix;           // only keys that start with it
  double rate = 0;              // bytes per second read from the volumes; 0: no limit
  std::size_t concurrency = 8;  // keys checked at once
};

class VerifyJob {
 public:
  // Verifies the keys of index (writing learned checksums through writer, taking each damaged
  // key's lock from locks), hashing large pieces on hashers; all of them must outlive the job.
  VerifyJob(IndexBackend& index, IndexWriter& writer, KeyLocks& locks, VolumeClient& volumes,
            net::thread_pool& hashers, VerifySettings settings);

  // Checks the next page of keys (and repairs, and records learned checksums). Returns whether
  // keys are left.
  net::awaitable<Result<bool>> step();

  // Asks the job to stop: the keys being checked are finished, no other key is started, and the
  // next step() returns false.
  void request_stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }

  // Returns the counts so far (seconds is left to the driver).
  const VerifySummary& summary() const { return summary_; }

  // Returns the lines worth showing since the last call (each bad copy, each repair), without
  // trailing newlines.
  std::vector<std::string> take_notes();

 private:
  net::awaitable<CopyCheck> check_copy(const Entry& entry, std::string url);
  net::awaitable<void> check_copy_into(const Entry& entry, std::string url, CopyCheck& out);
  net::awaitable<void> check_key(const Entry& entry, std::optional<Record>& learned);
  net::awaitable<void> judge_and_repair(const Entry& entry, std::vector<CopyCheck> copies,
                                        std::optional<Record>& learned);
  net::awaitable<void> learn(const Entry& entry, const std::optional<Record>& learned);
  net::awaitable<bool> repair_copy(const Entry& entry, const std::string& source,
                                   const std::string& target);

  IndexBackend& index_;
  IndexWriter& writer_;
  KeyLocks& locks_;
  VolumeClient& volumes_;
  net::thread_pool& hashers_;
  VerifySettings settings_;
  Throttle throttle_;
  VerifySummary summary_;
  std::vector<std::string> notes_;
  std::optional<std::string> after_;  // the last key checked
  bool done_ = false;
  bool stopping_ = false;
};

}  // namespace mkv
