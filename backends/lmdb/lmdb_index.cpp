// The LMDB index backend: thin RAII handles over the LMDB C API, the bucket layout that lets
// keys longer than LMDB's key limit keep their order, and the map that grows when full.
//
// Files. path is an LMDB environment without a subdirectory (MDB_NOSUBDIR); LMDB keeps its
// reader table in path + "-lock". Commits use LMDB's default full sync: a batch is on disk
// when apply() returns. The environment holds two named databases:
//   "meta"   "format" -> "mkv-lmdb 1 <B>", where B is the bucket key length below.
//   "blobs"  bucket key -> bucket value.
//
// Long keys. An LMDB key is at most B = mdb_env_get_maxkeysize() bytes (511 in Debian's
// build); mkv keys are up to 1024 bytes. A key is stored in the bucket named by its first B
// bytes (the whole key when it is shorter), together with every other key that shares those
// B bytes. Cutting keys to their first B bytes keeps their order (a < b implies
// cut(a) <= cut(b)), so walking buckets in LMDB order and each bucket's keys in order visits
// all keys in memcmp order. A key shorter than B bytes is alone in its bucket; reading or
// writing a key costs one bucket, which only grows for keys sharing their first B bytes.
//
// Bucket value: one or more entries back to back, in ascending order of suffix:
//   varint suffix length, suffix (the key's bytes after the first B),
//   varint size, varint volumes length, volumes (the JSON text of encode_volumes)
// where varint is unsigned LEB128 (7 bits a byte, low bits first, high bit = more follows).
#include "lmdb_index.h"

#include <lmdb.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <utility>

namespace mkv {
namespace {

constexpr unsigned max_readers = 1024;  // concurrent read transactions (LMDB's default: 126)
constexpr const char* format_name = "mkv-lmdb 1 ";

Error lmdb_error(int rc) { return Error::database(mdb_strerror(rc)); }

MDB_val as_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}

std::string_view as_view(const MDB_val& val) {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

// An environment; closes when destroyed.
class Env {
 public:
  Env() = default;
  explicit Env(MDB_env* env) noexcept : env_(env) {}
  Env(Env&& other) noexcept : env_(std::exchange(other.env_, nullptr)) {}
  Env& operator=(Env&& other) noexcept {
    std::swap(env_, other.env_);
    return *this;
  }
  ~Env() {
    if (env_) mdb_env_close(env_);
  }

  MDB_env* get() const noexcept { return env_; }

 private:
  MDB_env* env_ = nullptr;
};

// A transaction; aborts when destroyed unless committed.
class Txn {
 public:
  Txn() = default;
  explicit Txn(MDB_txn* txn) noexcept : txn_(txn) {}
  Txn(Txn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)) {}
  Txn& operator=(Txn&& other) noexcept {
    std::swap(txn_, other.txn_);
    return *this;
  }
  ~Txn() {
    if (txn_) mdb_txn_abort(txn_);
  }

  MDB_txn* get() const noexcept { return txn_; }

  // Commits and returns LMDB's result code; LMDB frees the transaction either way.
  int commit() noexcept { return mdb_txn_commit(std::exchange(txn_, nullptr)); }

 private:
  MDB_txn* txn_ = nullptr;
};

// A cursor of a read-only transaction; closes when destroyed (before its transaction ends).
class Cursor {
 public:
  explicit Cursor(MDB_cursor* cursor) noexcept : cursor_(cursor) {}
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor() { mdb_cursor_close(cursor_); }

  MDB_cursor* get() const noexcept { return cursor_; }

 private:
  MDB_cursor* cursor_;
};

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
Result<Transaction> begin(MDB_env* env, MapGate& gate, unsigned flags) {
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
Result<void> grow_map(MDB_env* env, MapGate& gate) {
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

// ---- Bucket layout (pure) ----

// A key cut into the bucket it lives in and the rest of it.
struct KeyParts {
  std::string_view bucket;
  std::string_view suffix;
};

KeyParts split_key(std::string_view key, std::size_t bucket_bytes) {
  const std::size_t cut = std::min(key.size(), bucket_bytes);
  return {key.substr(0, cut), key.substr(cut)};
}

// One key's entry in a bucket value; the views point into the value.
struct BucketEntry {
  std::string_view suffix;
  std::uint64_t size = 0;
  std::string_view volumes;
};

void append_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads a varint from the front of in and removes it; nullopt if in does not start with one.
std::optional<std::uint64_t> take_varint(std::string_view& in) {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return std::nullopt;
}

// Reads a varint length and that many bytes from the front of in and removes them.
std::optional<std::string_view> take_bytes(std::string_view& in) {
  const auto length = take_varint(in);
  if (!length || *length > in.size()) return std::nullopt;
  const std::string_view bytes = in.substr(0, *length);
  in.remove_prefix(*length);
  return bytes;
}

// Reads the entry at the front of a bucket value and removes it; nullopt if malformed.
std::optional<BucketEntry> take_entry(std::string_view& value) {
  const auto suffix = take_bytes(value);
  if (!suffix) return std::nullopt;
  const auto size = take_varint(value);
  if (!size) return std::nullopt;
  const auto volumes = take_bytes(value);
  if (!volumes) return std::nullopt;
  return BucketEntry{*suffix, *size, *volumes};
}

void append_entry(std::string& out, std::string_view suffix, std::uint64_t size,
                  std::string_view volumes) {
  append_varint(out, suffix.size());
  out.append(suffix);
  append_varint(out, size);
  append_varint(out, volumes.size());
  out.append(volumes);
}

// Returns bucket value old with the entry of suffix set to record, or removed when record is
// empty; "" means the bucket is left empty. nullopt if old is malformed.
std::optional<std::string> rewrite_bucket(std::string_view old, std::string_view suffix,
                                          const std::optional<Record>& record) {
  std::string out;
  out.reserve(old.size() + 64);
  bool placed = false;
  const auto place = [&] {
    if (record) append_entry(out, suffix, record->size, encode_volumes(record->volumes));
    placed = true;
  };
  while (!old.empty()) {
    const auto entry = take_entry(old);
    if (!entry) return std::nullopt;
    if (!placed && entry->suffix >= suffix) {
      place();
      if (entry->suffix == suffix) continue;  // the key's old entry: replaced or removed
    }
    append_entry(out, entry->suffix, entry->size, entry->volumes);
  }
  if (!placed) place();
  return out;
}

Error corrupt_bucket(std::string_view bucket) {
  return Error::database("corrupt index entry under key " + std::string(bucket));
}

Error corrupt_volumes(std::string_view key) {
  return Error::database("corrupt volumes for key " + std::string(key));
}

// ---- Reading and writing through LMDB ----

// Calls visit(key, entry) for each key >= lower in ascending byte order, until visit returns
// false or the keys run out.
template <class Visit>
Result<void> walk_from(MDB_txn* txn, MDB_dbi dbi, std::size_t bucket_bytes,
                       std::string_view lower, Visit visit) {
  MDB_cursor* raw = nullptr;
  if (const int rc = mdb_cursor_open(txn, dbi, &raw); rc != MDB_SUCCESS) return lmdb_error(rc);
  const Cursor cursor(raw);
  // Every key >= lower lives in a bucket >= lower's bucket, as cutting keeps order.
  MDB_val k = as_val(split_key(lower, bucket_bytes).bucket);
  MDB_val v{};
  int rc = mdb_cursor_get(raw, &k, &v, lower.empty() ? MDB_FIRST : MDB_SET_RANGE);
  std::string key;
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(raw, &k, &v, MDB_NEXT)) {
    std::string_view value = as_view(v);
    while (!value.empty()) {
      const auto entry = take_entry(value);
      if (!entry) return corrupt_bucket(as_view(k));
      key.assign(as_view(k));
      key.append(entry->suffix);
      if (key < lower) continue;
      if (!visit(key, *entry)) return {};
    }
  }
  if (rc != MDB_NOTFOUND) return lmdb_error(rc);
  return {};
}

// Returns the value stored under bucket, or nullopt if there is none.
Result<std::optional<std::string_view>> find_bucket(MDB_txn* txn, MDB_dbi dbi,
                                                    std::string_view bucket) {
  MDB_val k = as_val(bucket);
  MDB_val v{};
  const int rc = mdb_get(txn, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != MDB_SUCCESS) return lmdb_error(rc);
  return std::optional<std::string_view>(as_view(v));
}

// What one attempt to write a batch came to.
enum class Attempt {
  committed,
  map_full,  // nothing was written; the map must grow before the next attempt
};

// Writes batch in one transaction.
Result<Attempt> try_apply(MDB_env* env, MapGate& gate, MDB_dbi dbi, std::size_t bucket_bytes,
                          std::span<const Write> batch) {
  auto txn = begin(env, gate, 0);
  if (!txn) return txn.error();
  MDB_txn* raw = txn->txn.get();
  for (const Write& write : batch) {
    if (write.key.empty()) return Error::database("empty key");
    const auto [bucket, suffix] = split_key(write.key, bucket_bytes);
    auto old = find_bucket(raw, dbi, bucket);
    if (!old) return old.error();
    if (!*old && !write.record) continue;  // deleting a key that is not there
    const auto updated = rewrite_bucket(old->value_or(""), suffix, write.record);
    if (!updated) return corrupt_bucket(bucket);
    MDB_val k = as_val(bucket);
    MDB_val v = as_val(*updated);
    const int rc = updated->empty() ? mdb_del(raw, dbi, &k, nullptr) : mdb_put(raw, dbi, &k, &v, 0);
    if (rc == MDB_MAP_FULL) return Attempt::map_full;
    if (rc != MDB_SUCCESS) return lmdb_error(rc);
  }
  const int rc = txn->txn.commit();
  if (rc == MDB_MAP_FULL) return Attempt::map_full;
  if (rc != MDB_SUCCESS) return lmdb_error(rc);
  return Attempt::committed;
}

// Opens (creating if missing) the "meta" and "blobs" databases of a freshly opened env,
// records the format of a new index and checks that of an existing one. Returns "blobs".
Result<MDB_dbi> open_databases(MDB_env* env, std::size_t bucket_bytes) {
  MDB_txn* raw = nullptr;
  if (const int rc = mdb_txn_begin(env, nullptr, 0, &raw); rc != MDB_SUCCESS) return lmdb_error(rc);
  Txn txn(raw);
  MDB_dbi meta = 0;
  MDB_dbi blobs = 0;
  int rc = mdb_dbi_open(raw, "meta", MDB_CREATE, &meta);
  if (rc == MDB_SUCCESS) rc = mdb_dbi_open(raw, "blobs", MDB_CREATE, &blobs);
  if (rc != MDB_SUCCESS) return lmdb_error(rc);

  const std::string expected = format_name + std::to_string(bucket_bytes);
  auto format = find_bucket(raw, meta, "format");
  if (!format) return format.error();
  if (*format && **format != expected) {
    return Error::database("index format \"" + std::string(**format) +
                           "\" is not supported (this build uses \"" + expected + "\")");
  }
  if (!*format) {
    MDB_val k = as_val("format");
    MDB_val v = as_val(expected);
    if (rc = mdb_put(raw, meta, &k, &v, 0); rc != MDB_SUCCESS) return lmdb_error(rc);
  }
  if (rc = txn.commit(); rc != MDB_SUCCESS) return lmdb_error(rc);
  return blobs;
}

}  // namespace

struct LmdbIndex::State {
  Env env;
  MDB_dbi blobs = 0;
  std::size_t bucket_bytes = 0;
  MapGate gate;
  std::mutex write_mutex;  // apply() is called by one thread at a time; this keeps misuse safe
};

LmdbIndex::LmdbIndex(std::unique_ptr<State> state) : state_(std::move(state)) {}
LmdbIndex::LmdbIndex(LmdbIndex&&) noexcept = default;
LmdbIndex& LmdbIndex::operator=(LmdbIndex&&) noexcept = default;
LmdbIndex::~LmdbIndex() = default;

Result<LmdbIndex> LmdbIndex::open(const std::string& path) { return open(path, default_map_bytes); }

Result<LmdbIndex> LmdbIndex::open(const std::string& path, std::size_t initial_map_bytes) {
  MDB_env* raw = nullptr;
  if (const int rc = mdb_env_create(&raw); rc != MDB_SUCCESS) return lmdb_error(rc);
  auto state = std::make_unique<State>();
  state->env = Env(raw);
  // An existing file keeps its larger recorded map size.
  int rc = mdb_env_set_maxdbs(raw, 2);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_maxreaders(raw, max_readers);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(raw, initial_map_bytes);
  if (rc == MDB_SUCCESS) rc = mdb_env_open(raw, path.c_str(), MDB_NOSUBDIR | MDB_NOTLS, 0644);
  if (rc != MDB_SUCCESS) return lmdb_error(rc);
  // Free the reader slots of processes that died with a read transaction open.
  int dead = 0;
  if (rc = mdb_reader_check(raw, &dead); rc != MDB_SUCCESS) return lmdb_error(rc);

  state->bucket_bytes = static_cast<std::size_t>(mdb_env_get_maxkeysize(raw));
  auto blobs = open_databases(raw, state->bucket_bytes);
  if (!blobs) return blobs.error();
  state->blobs = *blobs;
  return LmdbIndex(std::move(state));
}

Result<std::optional<Record>> LmdbIndex::get(std::string_view key) {
  if (key.empty()) return std::optional<Record>();  // LMDB cannot hold an empty key
  auto txn = begin(state_->env.get(), state_->gate, MDB_RDONLY);
  if (!txn) return txn.error();
  const auto [bucket, suffix] = split_key(key, state_->bucket_bytes);
  auto value = find_bucket(txn->txn.get(), state_->blobs, bucket);
  if (!value) return value.error();
  if (!*value) return std::optional<Record>();
  std::string_view rest = **value;
  while (!rest.empty()) {
    const auto entry = take_entry(rest);
    if (!entry) return corrupt_bucket(bucket);
    if (entry->suffix != suffix) continue;
    auto volumes = parse_volumes(entry->volumes);
    if (!volumes) return corrupt_volumes(key);
    return std::optional<Record>(Record{std::move(*volumes), entry->size});
  }
  return std::optional<Record>();
}

Result<std::vector<std::string>> LmdbIndex::list(std::string_view prefix, std::string_view start,
                                                 std::size_t limit) {
  std::vector<std::string> keys;
  if (limit == 0) return keys;
  auto txn = begin(state_->env.get(), state_->gate, MDB_RDONLY);
  if (!txn) return txn.error();
  // Keys that start with prefix are consecutive from prefix on; none lie below it.
  const auto walked = walk_from(txn->txn.get(), state_->blobs, state_->bucket_bytes,
                                std::max(prefix, start),
                                [&](const std::string& key, const BucketEntry&) {
                                  if (!key.starts_with(prefix)) return false;
                                  keys.push_back(key);
                                  return keys.size() < limit;
                                });
  if (!walked) return walked.error();
  return keys;
}

Result<std::vector<Entry>> LmdbIndex::scan(std::string_view start, std::size_t limit) {
  std::vector<Entry> entries;
  if (limit == 0) return entries;
  auto txn = begin(state_->env.get(), state_->gate, MDB_RDONLY);
  if (!txn) return txn.error();
  std::optional<Error> corrupt;
  const auto walked = walk_from(txn->txn.get(), state_->blobs, state_->bucket_bytes, start,
                                [&](const std::string& key, const BucketEntry& entry) {
                                  auto volumes = parse_volumes(entry.volumes);
                                  if (!volumes) {
                                    corrupt = corrupt_volumes(key);
                                    return false;
                                  }
                                  entries.push_back({key, Record{std::move(*volumes), entry.size}});
                                  return entries.size() < limit;
                                });
  if (!walked) return walked.error();
  if (corrupt) return *corrupt;
  return entries;
}

Result<void> LmdbIndex::apply(std::span<const Write> batch) {
  if (batch.empty()) return {};
  const std::lock_guard lock(state_->write_mutex);
  for (;;) {
    const auto attempt = try_apply(state_->env.get(), state_->gate, state_->blobs,
                                   state_->bucket_bytes, batch);
    if (!attempt) return attempt.error();
    if (*attempt == Attempt::committed) return {};
    // The map is full and the transaction was aborted: grow it and write the batch again.
    if (auto grown = grow_map(state_->env.get(), state_->gate); !grown) return grown.error();
  }
}

}  // namespace mkv
