// A verify as a steppable job (see verify_job.h).
#include "verify_job.h"

#include "hashing.h"
#include "index/reads.h"
#include "jobs/blob_copy.h"
#include "run_all.h"
#include "volume/download.h"
#include "volume/token.h"

#include "mkv/volume.h"
#include "mkv/volume_answer.h"

#include <algorithm>
#include <utility>

namespace mkv {

VerifyJob::VerifyJob(IndexBackend& index, IndexWriter& writer, KeyLocks& locks,
                     VolumeClient& volumes, net::thread_pool& hashers, VerifySettings settings)
    : index_(index),
      writer_(writer),
      locks_(locks),
      volumes_(volumes),
      hashers_(hashers),
      settings_(std::move(settings)),
      throttle_(settings_.rate) {
  settings_.concurrency = std::max<std::size_t>(settings_.concurrency, 1);
}

std::vector<std::string> VerifyJob::take_notes() { return std::exchange(notes_, {}); }

// Reads the copy of entry's key on the volume at url through MD5.
net::awaitable<CopyCheck> VerifyJob::check_copy(const Entry& entry, std::string url) {
  CopyCheck check{url, CopyState::unreadable, std::nullopt};
  CopyRead read;
  auto volume = volumes_.pool(url);
  if (!volume) co_return check;
  Download download(**volume, volume_target((*volume)->volume(), entry.key));
  auto status = co_await download.start();
  if (!status) co_return check;
  read.status = *status;
  if (*status == 200) {
    read.length = download.length();
    if (read.length == entry.record.size) {
      // As big as the blob, up to a piece: a small blob's check must not zero 256 KiB.
      std::vector<char> piece(
          std::min<std::uint64_t>(job_piece_size, std::max<std::uint64_t>(entry.record.size, 1)));
      Md5Stream hash;
      for (;;) {
        auto n = co_await download.read(piece);
        if (!n) break;
        co_await hash_piece(hashers_, hash, std::span<const char>(piece.data(), *n));
        summary_.bytes += *n;
        co_await throttle_.take(*n);
        if (download.done()) {
          read.md5 = hash.finish();
          break;
        }
      }
    }
  }
  check.state = classify_copy(read, entry.record);
  if (check.state == CopyState::good) check.md5 = read.md5;
  co_return check;
}

// Checks the copy of entry's key on the volume at url into out.
net::awaitable<void> VerifyJob::check_copy_into(const Entry& entry, std::string url,
                                                CopyCheck& out) {
  out = co_await check_copy(entry, std::move(url));
}

// Streams the good copy on source into a staging file on target, checking its MD5 before the
// last piece goes out (a mismatch cuts the upload off, and the volume discards it), then moves
// the staging file onto the key. Returns whether the copy is in place.
net::awaitable<bool> VerifyJob::repair_copy(const Entry& entry, const std::string& source,
                                            const std::string& target) {
  auto from = volumes_.pool(source);
  auto to = volumes_.pool(target);
  if (!from || !to || !entry.record.md5) co_return false;
  const std::string staged = staging_target((*to)->volume(), "repair-" + random_token(4));
  auto copied = co_await copy_blob(**from, volume_target((*from)->volume(), entry.key), **to,
                                   staged, entry.record.size, entry.record.md5, &throttle_);
  const bool staged_whole = copied.has_value();
  if (!staged_whole) {
    (void)co_await volume_delete(**to, staged);
    co_return false;
  }
  auto moved = co_await volume_move(**to, staged, volume_target((*to)->volume(), entry.key));
  if (!moved || classify_answer(VolumeVerb::move, *moved) != Answer::done) {
    (void)co_await volume_delete(**to, staged);
    co_return false;
  }
  co_return true;
}

// Checks every copy of entry's key; when one reads bad, takes the key's lock and, if the record
// is still the one read, reads the bad copies again there and judges and repairs under the lock
// (a write of the key that raced the first reading cannot be taken for damage). Sets learned to
// the record with its newly known checksum when it had none and its copies agree.
net::awaitable<void> VerifyJob::check_key(const Entry& entry, std::optional<Record>& learned) {
  if (stopping_) co_return;
  std::vector<CopyCheck> copies(entry.record.volumes.size());
  co_await run_all(copies.size(), [&](std::size_t i) {
    return check_copy_into(entry, entry.record.volumes[i], copies[i]);
  });
  const bool all_good = std::all_of(copies.begin(), copies.end(), [](const CopyCheck& c) {
    return c.state == CopyState::good;
  });
  if (all_good) {
    co_await judge_and_repair(entry, std::move(copies), learned);
    co_return;
  }
  KeyGuard guard = co_await locks_.acquire(entry.key);
  auto current = co_await read_record(index_, entry.key);
  if (!current || !*current || **current != entry.record) {
    summary_.keys += 1;
    summary_.changed += 1;
    notes_.push_back("verify: " + entry.key + ": rewritten or deleted while checked; skipped");
    co_return;
  }
  for (auto& c : copies) {
    if (c.state != CopyState::good) c = co_await check_copy(entry, c.volume);
  }
  co_await judge_and_repair(entry, std::move(copies), learned);
}

// Counts and notes the copies of entry's key as checked, judges the key, and repairs its bad
// copies when asked (the caller holds the key's lock when a copy is bad).
net::awaitable<void> VerifyJob::judge_and_repair(const Entry& entry, std::vector<CopyCheck> copies,
                                                 std::optional<Record>& learned) {
  summary_.keys += 1;
  for (const auto& c : copies) {
    summary_ = tally_copy(summary_, c.state);
    if (c.state != CopyState::good) {
      notes_.push_back("verify: " + entry.key + " on " + c.volume + ": " +
                       std::string(copy_state_name(c.state)));
    }
  }
  const KeyVerdict verdict = judge_key(entry.record, copies);
  switch (verdict.outcome) {
    case KeyVerdict::Outcome::conflict:
      summary_.conflicts += 1;
      notes_.push_back("verify: " + entry.key +
                       ": its copies disagree and its checksum is unknown; not repaired");
      co_return;
    case KeyVerdict::Outcome::lost:
      summary_.lost += 1;
      notes_.push_back("verify: " + entry.key + ": no good copy left");
      co_return;
    case KeyVerdict::Outcome::good:
    case KeyVerdict::Outcome::damaged:
    case KeyVerdict::Outcome::unreadable: break;
  }
  Record record = entry.record;
  if (verdict.learned) {
    record.md5 = verdict.learned;
    learned = record;
  }
  if (!settings_.repair || !verdict.source || verdict.bad.empty() || !record.md5) co_return;
  const Entry repaired{entry.key, record};
  for (const auto& target : verdict.bad) {
    if (co_await repair_copy(repaired, *verdict.source, target)) {
      summary_.repaired += 1;
      notes_.push_back("verify: " + entry.key + " on " + target + ": repaired from " +
                       *verdict.source);
    } else {
      summary_.repair_failed += 1;
      notes_.push_back("verify: " + entry.key + " on " + target + ": repair failed");
    }
  }
}

// Writes the checksum learned for entry's key, only if the key still holds the record read.
net::awaitable<void> VerifyJob::learn(const Entry& entry, const std::optional<Record>& learned) {
  if (!learned) co_return;
  const Write write{entry.key, *learned, Expected::record(entry.record)};
  auto applied = co_await writer_.apply(write);
  if (!applied) {
    notes_.push_back("verify: " + entry.key + ": cannot record its checksum: " +
                     message(applied.error()));
  } else if (*applied == Applied::written) {
    summary_.learned += 1;
  }
}

net::awaitable<Result<bool>> VerifyJob::step() {
  if (done_ || stopping_) co_return false;
  const std::string start = after_ ? *after_ : settings_.prefix;
  const std::size_t want = after_ ? job_page_size + 1 : job_page_size;
  auto page = co_await read_entries(index_, start, want);
  if (!page) co_return page.error();
  std::vector<Entry> entries;
  for (auto& e : *page) {
    if (after_ && e.key == *after_) continue;
    if (!e.key.starts_with(settings_.prefix)) {
      done_ = true;
      break;
    }
    entries.push_back(std::move(e));
  }
  if (page->size() < want) done_ = true;
  if (entries.empty()) {
    done_ = true;
    co_return false;
  }
  after_ = entries.back().key;
  std::vector<std::optional<Record>> learned(entries.size());
  co_await for_each_bounded(entries.size(), settings_.concurrency, [&](std::size_t i) {
    return check_key(entries[i], learned[i]);
  });
  // The checksums learned go into the index, each only if the record is still the one read.
  co_await for_each_bounded(entries.size(), settings_.concurrency,
                            [&](std::size_t i) { return learn(entries[i], learned[i]); });
  if (stopping_) done_ = true;
  co_return !done_;
}

}  // namespace mkv
