// Thin handles over the LMDB C API for the LMDB backend: an environment, a transaction and a
// cursor that end themselves, the gate that lets the map grow while no transaction is open,
// and helpers that turn LMDB's return codes into Results.
#pragma once

#include "mkv/error.h"

#include <lmdb.h>

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace mkv::lmdb {

inline Error lmdb_error(int rc) { return Error::database(mdb_strerror(rc)); }

inline MDB_val as_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}

inline std::string_view as_view(const MDB_val& val) {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

struct CloseEnv {
  void operator()(MDB_env* env) const noexcept { mdb_env_close(env); }
};
struct AbortTxn {
  void operator()(MDB_txn* txn) const noexcept { mdb_txn_abort(txn); }
};
struct CloseCursor {
  void operator()(MDB_cursor* cursor) const noexcept { mdb_cursor_close(cursor); }
};

// An environment; closes when destroyed.
using Env = std::unique_ptr<MDB_env, CloseEnv>;
// A transaction; aborts when destroyed unless committed.
using Txn = std::unique_ptr<MDB_txn, AbortTxn>;
// A cursor of a read-only transaction; closes when destroyed (before its transaction ends).
using Cursor = std::unique_ptr<MDB_cursor, CloseCursor>;

// Commits txn and returns LMDB's result code; LMDB frees the transaction either way.
inline int commit(Txn& txn) noexcept { return mdb_txn_commit(txn.release()); }

// Lets any number of transactions run together and a map resize run alone: LMDB may change
// the map size only while no transaction of this process is open. A waiting resize holds
// back new transactions, so a stream of readers cannot starve it.
class MapGate {
 public:
  // Held by every open transaction; leaves the gate when destroyed.
  class Pass {
   public:
    Pass() = default;
    explicit Pass(MapGate& gate) noexcept : gate_(&gate) {}
    Pass(Pass&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Pass& operator=(Pass&& other) noexcept {
      std::swap(gate_, other.gate_);
      return *this;
    }
    ~Pass() {
      if (gate_) gate_->leave();
    }

   private:
    MapGate* gate_ = nullptr;
  };

  // Waits out a resize in progress, then admits a transaction.
  Pass enter() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !resizing_; });
    ++open_;
    return Pass(*this);
  }

  // Runs change() once no transaction is open, admitting none meanwhile; returns its result.
  template <class Change>
  int exclusive(Change change) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !resizing_; });
    resizing_ = true;
    changed_.wait(lock, [&] { return open_ == 0; });
    const int rc = change();
    resizing_ = false;
    changed_.notify_all();
    return rc;
  }

 private:
  void leave() noexcept {
    const std::lock_guard lock(mutex_);
    if (--open_ == 0) changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t open_ = 0;
  bool resizing_ = false;
};

// An open transaction and its pass through the gate; the transaction ends first.
struct Transaction {
  MapGate::Pass pass;
  Txn txn;
};

// Returns a new transaction (flags: 0 or MDB_RDONLY). If another process grew the map, adopts
// the new size and tries once more.
inline Result<Transaction> begin(MDB_env* env, MapGate& gate, unsigned flags) {
  for (bool adopted = false;; adopted = true) {
    MapGate::Pass pass = gate.enter();
    MDB_txn* raw = nullptr;
    const int rc = mdb_txn_begin(env, nullptr, flags, &raw);
    if (rc == MDB_SUCCESS) return Transaction{std::move(pass), Txn(raw)};
    if (rc != MDB_MAP_RESIZED || adopted) return lmdb_error(rc);
    pass = MapGate::Pass();
    const int adopt = gate.exclusive([&] { return mdb_env_set_mapsize(env, 0); });
    if (adopt != MDB_SUCCESS) return lmdb_error(adopt);
  }
}

// Doubles the map size of env.
inline Result<void> grow_map(MDB_env* env, MapGate& gate) {
  const int rc = gate.exclusive([&] {
    MDB_envinfo info;
    int result = mdb_env_info(env, &info);
    if (result == MDB_SUCCESS) result = mdb_env_set_mapsize(env, info.me_mapsize * 2);
    return result;
  });
  if (rc != MDB_SUCCESS) {
    return Error::database(std::string("cannot grow the map: ") + mdb_strerror(rc));
  }
  return {};
}

}  // namespace mkv::lmdb
