// Group commit: request handlers queue index writes, one thread applies everything queued
// in one transaction, then wakes each handler with the outcome. Many small writes share one
// durable commit, and only that thread ever writes the index. A write whose condition fails
// is told so and does not fail the others; a batch the index refuses as a whole is applied
// again one write at a time, so each handler learns its own outcome.
#pragma once

#include "asio.h"

#include "backend.h"

#include <boost/asio.hpp>
#include <boost/asio/any_completion_handler.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace mkv {

class IndexWriter {
 public:
  // Starts the writer thread; index must outlive this object.
  explicit IndexWriter(IndexBackend& index) : index_(index), thread_([this] { run(); }) {}
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;

  // Applies what is queued, then stops the thread.
  ~IndexWriter() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // Returns how many transactions the writer has applied so far (a batch the index refused
  // whole counts once, plus once per write applied on its own after it).
  std::uint64_t transactions() const { return transactions_.load(std::memory_order_relaxed); }

  // Completes once write is durable in the index (Applied::written), or its condition did not
  // hold (Applied::condition_failed), or with the error that prevented it.
  // write is read by the writer thread while the caller awaits; it must stay alive until then.
  // (Only a pointer crosses into Asio: GCC 12 miscompiles class-type by-value parameters of
  // coroutines, and use_awaitable's initiation is one.)
  net::awaitable<Result<Applied>> apply(const Write& write) {
    return net::async_initiate<decltype(net::use_awaitable), void(Result<Applied>)>(
        [this](auto handler, const Write* w) {
          net::any_io_executor executor = net::get_associated_executor(handler);
          enqueue({w, std::move(executor), std::move(handler)});
        },
        net::use_awaitable, &write);
  }

 private:
  using Handler = net::any_completion_handler<void(Result<Applied>)>;
  struct Pending {
    const Write* write;
    net::any_io_executor executor;  // where the waiting coroutine runs
    Handler handler;
  };

  void enqueue(Pending pending) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(pending));
    }
    wake_.notify_one();
  }

  void run() {
    std::vector<Pending> batch;
    std::vector<Write> writes;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        batch.swap(queue_);
      }
      writes.clear();
      for (auto& p : batch) writes.push_back(*p.write);
      auto outcomes = index_.apply(writes);
      transactions_.fetch_add(1, std::memory_order_relaxed);
      if (outcomes) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
          complete(std::move(batch[i]), (*outcomes)[i]);
        }
      } else if (batch.size() == 1) {
        complete(std::move(batch.front()), outcomes.error());
      } else {
        // Apply one by one so each handler learns its own outcome.
        for (std::size_t i = 0; i < batch.size(); ++i) {
          auto alone = index_.apply(std::span(&writes[i], 1));
          transactions_.fetch_add(1, std::memory_order_relaxed);
          complete(std::move(batch[i]), alone ? Result<Applied>(alone->front())
                                              : Result<Applied>(alone.error()));
        }
      }
      batch.clear();
    }
  }

  static void complete(Pending pending, Result<Applied> outcome) {
    net::post(pending.executor,
              [h = std::move(pending.handler), outcome = std::move(outcome)]() mutable {
                std::move(h)(std::move(outcome));
              });
  }

  IndexBackend& index_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Pending> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> transactions_{0};
  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace mkv
