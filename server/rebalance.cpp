// `mkv rebalance` (see rebalance.h here and mkv/rebalance.h for the decisions and the journal).
#include "rebalance.h"

#include "owner_lock.h"
#include "parallel.h"
#include "progress.h"
#include "sync_directory.h"

#include "mkv/ops_progress.h"
#include "mkv/rebalance.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mkv {

namespace {

// Index entries planned, journalled and executed together.
constexpr std::size_t page_size = 1000;
// How much of a blob is held in memory at once while it is copied.
constexpr std::size_t piece_size = 256 * 1024;
// Moves the dry run lists one by one.
constexpr std::size_t dry_run_moves_shown = 10;

// ---------------------------------------------------------------------------------------------
// The journal file

std::string journal_path(const std::string& db) { return db + ".rebalance-journal"; }

// Returns the text of the journal at path, or nullopt if there is none.
Result<std::optional<std::string>> read_journal(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::database("cannot read the rebalance journal " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error::database("cannot read the rebalance journal " + path);
  return std::optional<std::string>(std::move(text));
}


// Writes text as the journal at path and returns once it is on disk.
Result<void> write_journal(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::database("cannot create the rebalance journal " + path);
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool synced = done == text.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Error::database("cannot write the rebalance journal " + path);
  return sync_directory_of(path);
}

Result<void> remove_journal(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::database("cannot remove the rebalance journal " + path);
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Bounded parallelism

// Runs work(i) for the indexes next, next + 1, ... below count, one after the other.
template <class Work>
net::awaitable<void> take_each(std::size_t& next, std::size_t count, Work& work) {
  while (next < count) {
    const std::size_t i = next++;
    co_await work(i);
  }
}

// Runs work(0) .. work(count - 1) (each returning net::awaitable<void>) with at most
// `concurrency` of them in flight, and completes when all have.
template <class Work>
net::awaitable<void> for_each_bounded(std::size_t count, std::size_t concurrency, Work work) {
  if (count == 0) co_return;
  std::size_t next = 0;
  co_await run_all(std::min(count, concurrency),
                   [&](std::size_t) { return take_each(next, count, work); });
}

// ---------------------------------------------------------------------------------------------
// Execution

// What a run shares between its moves: one thread runs them all, so it needs no lock.
struct Rebalance {
  const Config& config;
  IndexBackend& index;
  VolumeClient& client;
  ProgressLine& progress;
  std::size_t concurrency;
  std::string journal;  // the journal's path
  RebalanceProgress counts;
};

void report(Rebalance& run) {
  if (!run.progress.due()) return;
  RebalanceProgress p = run.counts;
  p.seconds = run.progress.seconds();
  run.progress.show(format_rebalance_progress(p));
}

// Streams key from source to target without holding more than one piece in memory. Fails
// unless source answers 200 with exactly size bytes and target stores them.
net::awaitable<Result<void>> copy_from(VolumeConnections& source, VolumeConnections& target,
                                       std::string key, std::uint64_t size) {
  const std::string from = volume_target(source.volume(), key);
  Download download(source, from);
  auto status = co_await download.start();
  if (!status) co_return status.error();
  if (*status != 200) {
    co_return Error::volume_write_failed(source.volume().url + " answered " +
                                         std::to_string(*status) + " to GET " + from);
  }
  if (download.length() != size) {
    co_return Error::volume_write_failed(
        source.volume().url + from + " holds " +
        (download.length() ? std::to_string(*download.length()) : std::string("unknown")) +
        " bytes, the index says " + std::to_string(size));
  }
  Upload upload(target, volume_target(target.volume(), key), size);
  std::vector<char> piece(std::min<std::uint64_t>(piece_size, std::max<std::uint64_t>(size, 1)));
  for (;;) {
    auto n = co_await download.read(piece);
    if (!n) co_return n.error();  // the unfinished upload is dropped with its connection
    const bool last = download.done();
    co_await upload.send(net::buffer(piece.data(), *n), last);
    if (last || upload.reply()) break;
  }
  if (upload.stored()) co_return Result<void>{};
  const auto& reply = upload.reply();
  if (reply && !reply->has_value()) co_return reply->error();
  co_return Error::volume_write_failed(
      target.volume().url + " answered " + (reply ? std::to_string(reply->value()) : "nothing") +
      " to PUT " + upload.target());
}

// Copies key to the volume at target_url from the first of sources that works.
net::awaitable<Result<void>> copy_blob(Rebalance& run, std::string key, std::uint64_t size,
                                       std::vector<std::string> sources, std::string target_url) {
  auto* target = run.client.find(target_url);
  if (!target) co_return Error::volume_write_failed("bad volume URL " + target_url);
  std::string why = "no volume to copy from";
  for (const auto& source_url : sources) {
    auto* source = run.client.find(source_url);
    if (!source) {
      why = "bad volume URL " + source_url;
      continue;
    }
    auto copied = co_await copy_from(*source, *target, key, size);
    if (copied) co_return copied;
    why = copied.error().detail;
  }
  co_return Error::volume_write_failed(why);
}

// Makes every copy move m needs; sets copied when all of them are made.
net::awaitable<void> make_copies(Rebalance& run, const Move& m, char& copied) {
  for (const auto& target : m.copy_to) {
    auto made = co_await copy_blob(run, m.key, m.before.size, m.sources, target);
    if (!made) {
      run.progress.print("rebalance: cannot copy " + m.key + " to " + target + ": " +
                         made.error().detail + '\n');
      co_return;
    }
    run.counts.copies += 1;
    run.counts.bytes += m.before.size;
  }
  copied = 1;
  report(run);
}

// Deletes key from the volume at url; sets deleted when it is gone (also when it was not there).
net::awaitable<void> delete_copy(Rebalance& run, std::string key, std::string url, char& deleted) {
  auto* volume = run.client.find(url);
  if (!volume) {
    run.progress.print("rebalance: cannot delete " + key + " from " + url + ": bad volume URL\n");
    co_return;
  }
  auto reply = co_await run.client.remove(url, volume_target(volume->volume(), key));
  if (reply && (*reply == 200 || *reply == 204 || *reply == 404)) {
    deleted = 1;
    if (*reply != 404) run.counts.deletes += 1;
    co_return;
  }
  run.progress.print("rebalance: cannot delete " + key + " from " + url + ": " +
                     (reply ? "answered " + std::to_string(*reply) : reply.error().detail) + '\n');
}

// Returns the index's current records of the journalled keys (keys no longer indexed left out).
Result<std::vector<Entry>> current_records(IndexBackend& index,
                                           const std::vector<JournalEntry>& journal) {
  std::vector<Entry> current;
  current.reserve(journal.size());
  for (const auto& e : journal) {
    auto record = index.get(e.key);
    if (!record) return record.error();
    if (*record) current.push_back({e.key, std::move(**record)});
  }
  return current;
}

// Steps 5 and 6 for a journal: deletes every copy plan_recovery names, then removes the
// journal; keeps it and fails if a delete failed.
net::awaitable<Result<void>> finish_journal(Rebalance& run, std::vector<JournalEntry> journal) {
  auto current = current_records(run.index, journal);
  if (!current) co_return current.error();
  std::vector<std::pair<std::string, std::string>> deletes;  // key, volume URL
  for (auto& cleanup : plan_recovery(journal, *current)) {
    for (auto& url : cleanup.remove_from) deletes.emplace_back(cleanup.key, std::move(url));
  }
  std::vector<char> deleted(deletes.size(), 0);
  co_await for_each_bounded(deletes.size(), run.concurrency, [&](std::size_t i) {
    return delete_copy(run, deletes[i].first, deletes[i].second, deleted[i]);
  });
  const auto failed = static_cast<std::uint64_t>(std::count(deleted.begin(), deleted.end(), 0));
  if (failed > 0) {
    run.counts.delete_failures += failed;
    co_return Error::volume_write_failed(
        std::to_string(failed) + " deletes failed; the journal " + run.journal +
        " keeps them for the next run");
  }
  co_return remove_journal(run.journal);
}

// Steps 2 to 6 for one page's moves.
net::awaitable<Result<void>> execute_page(Rebalance& run, std::vector<Move> moves) {
  std::vector<JournalEntry> journal = journal_entries(moves);
  if (auto written = write_journal(run.journal, encode_journal(journal)); !written) {
    co_return written.error();
  }
  std::vector<char> copied(moves.size(), 0);
  co_await for_each_bounded(moves.size(), run.concurrency, [&](std::size_t i) {
    return make_copies(run, moves[i], copied[i]);
  });
  std::vector<Write> writes;
  for (std::size_t i = 0; i < moves.size(); ++i) {
    if (copied[i]) {
      writes.push_back({moves[i].key, moves[i].after});
    } else {
      run.counts.keys_failed += 1;
    }
  }
  if (!writes.empty()) {
    if (auto applied = run.index.apply(writes); !applied) co_return applied.error();
    run.counts.keys_moved += writes.size();
  }
  co_return co_await finish_journal(run, std::move(journal));
}

// Returns the entries of the page after the key `after` (from the first key when it is
// nullopt), and whether the index ends with it.
struct Page {
  std::vector<Entry> entries;
  bool last = false;
};
Result<Page> next_page(IndexBackend& index, const std::optional<std::string>& after) {
  const std::size_t want = after ? page_size + 1 : page_size;
  auto entries = index.scan(after ? *after : std::string(), want);
  if (!entries) return entries.error();
  Page page{std::move(*entries), false};
  page.last = page.entries.size() < want;
  if (after && !page.entries.empty() && page.entries.front().key == *after) {
    page.entries.erase(page.entries.begin());
  }
  return page;
}

// The whole run: the journal an interrupted run left, then every page.
net::awaitable<Result<void>> rebalance_all(Rebalance& run) {
  auto left = read_journal(run.journal);
  if (!left) co_return left.error();
  if (*left) {
    auto journal = parse_journal(**left);
    if (!journal) co_return journal.error();
    run.progress.print("rebalance: finishing the interrupted run recorded in " + run.journal +
                       " (" + std::to_string(journal->size()) + " keys)\n");
    if (auto finished = co_await finish_journal(run, std::move(*journal)); !finished) {
      co_return finished.error();
    }
  }
  std::optional<std::string> after;
  for (;;) {
    auto page = next_page(run.index, after);
    if (!page) co_return page.error();
    if (page->entries.empty()) break;
    after = page->entries.back().key;
    auto moves = plan_rebalance(page->entries, run.config.volume_urls, run.config.replicas);
    if (!moves) co_return moves.error();
    run.counts.keys_scanned += page->entries.size();
    run.counts.keys_planned += moves->size();
    if (!moves->empty()) {
      if (auto done = co_await execute_page(run, std::move(*moves)); !done) co_return done.error();
    }
    report(run);
    if (page->last) break;
  }
  co_return Result<void>{};
}

// --dry-run: plans every page and prints the report; writes nothing anywhere.
Result<void> dry_run(const Config& config, IndexBackend& index) {
  auto left = read_journal(journal_path(config.db));
  if (!left) return left.error();
  if (*left) {
    auto journal = parse_journal(**left);
    if (!journal) return journal.error();
    auto current = current_records(index, *journal);
    if (!current) return current.error();
    std::size_t deletes = 0;
    for (const auto& c : plan_recovery(*journal, *current)) deletes += c.remove_from.size();
    std::cout << "an interrupted rebalance left the journal " << journal_path(config.db) << " ("
              << journal->size() << " keys): the next run first deletes " << deletes
              << " copies no record lists\n";
  }
  PlanSummary summary;
  std::vector<Move> shown;
  std::optional<std::string> after;
  for (;;) {
    auto page = next_page(index, after);
    if (!page) return page.error();
    if (page->entries.empty()) break;
    after = page->entries.back().key;
    auto moves = plan_rebalance(page->entries, config.volume_urls, config.replicas);
    if (!moves) return moves.error();
    summary = tally_plan(std::move(summary), page->entries.size(), *moves);
    for (auto& m : *moves) {
      if (shown.size() == dry_run_moves_shown) break;
      shown.push_back(std::move(m));
    }
    if (page->last) break;
  }
  std::cout << format_dry_run(summary, shown, config.volume_urls.size(), config.replicas);
  return {};
}

}  // namespace

int run_rebalance(const Config& config, const RebalanceOptions& options) {
  ProgressLine progress;
  auto owner = OwnerLock::acquire(config.db, "rebalance");
  if (!owner) {
    progress.print("mkv rebalance: " + owner.error().detail + '\n');
    return 1;
  }
  std::error_code ec;
  if (!std::filesystem::exists(config.db, ec)) {
    progress.print("mkv rebalance: there is no index at " + config.db + '\n');
    return 1;
  }
  if (config.volume_urls.size() < config.replicas) {
    progress.print("mkv rebalance: " + message(Error::not_enough_volumes(
                                           config.replicas, config.volume_urls.size())) + '\n');
    return 1;
  }
  auto index = IndexBackend::open(config.db);
  if (!index) {
    progress.print("mkv rebalance: " + message(index.error()) + '\n');
    return 1;
  }
  if (options.dry_run) {
    if (auto planned = dry_run(config, *index); !planned) {
      progress.print("mkv rebalance: " + message(planned.error()) + '\n');
      return 1;
    }
    return 0;
  }

  net::io_context io;
  VolumeClient client(io.get_executor(), config.volumes, config.volume_options);
  Rebalance run{config, *index, client, progress, std::max<std::size_t>(options.concurrency, 1),
                journal_path(config.db), {}};
  std::exception_ptr failure;
  Result<void> outcome;
  net::co_spawn(io, rebalance_all(run), [&](std::exception_ptr e, Result<void> r) {
    failure = e;
    outcome = std::move(r);
  });
  io.run();
  if (failure) std::rethrow_exception(failure);  // a bug, not an IO failure: main reports it

  run.counts.seconds = progress.seconds();
  progress.finish(format_rebalance_progress(run.counts));
  if (!outcome) {
    progress.print("mkv rebalance: " + message(outcome.error()) +
                   "\nrebalance: stopped; run it again to finish\n");
  }
  progress.print(format_rebalance_summary(run.counts));
  return outcome && run.counts.keys_failed == 0 ? 0 : 1;
}

}  // namespace mkv
