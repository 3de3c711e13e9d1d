// The LMDB index backend: reads and conditional batched writes over the bucket layout
// (lmdb_bucket.h), the map that grows when full, and the recorded format with its migrations.
// (The files around the index: lmdb_files.cpp.)
//
// Files. path is an LMDB environment without a subdirectory (MDB_NOSUBDIR); LMDB keeps its
// reader table in path + "-lock". Commits use LMDB's default full sync: a batch is on disk
// when apply() returns. The environment holds two named databases:
//   "meta"     "format" -> "mkv-lmdb <V> <B>": V the format version, B the bucket key length.
//              "keys" -> the number of keys in "blobs", in decimal, kept by every write.
//   "blobs"    bucket key -> bucket value (lmdb_bucket.h).
//   "intents"  token -> varint key length, key, the previous record as a bucket entry (of
//              format 2, with an empty suffix), then the staged volumes (encode_volumes).
//   "repairs"  the keys marked for repair, in buckets as "blobs" keeps them (each entry's
//              record empty), so that long keys are kept and walked in order alike.
//
// Long keys. An LMDB key is at most B = mdb_env_get_maxkeysize() bytes (511 in Debian's
// build); mkv keys are up to 1024 bytes. Cutting keys to their first B bytes keeps their order
// (a < b implies cut(a) <= cut(b)), so walking buckets in LMDB order and each bucket's keys in
// order visits all keys in memcmp order. A key shorter than B bytes is alone in its bucket;
// reading or writing a key costs one bucket, which only grows for keys sharing their first B
// bytes.
#include "lmdb_index.h"

#include "lmdb_bucket.h"
#include "lmdb_handles.h"
#include "local_files.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <utility>

namespace mkv {

using namespace lmdb;

namespace {

constexpr unsigned max_readers = 1024;  // concurrent read transactions (LMDB's default: 126)
constexpr std::string_view format_name = "mkv-lmdb ";

// The named databases of an index.
struct Databases {
  MDB_dbi meta = 0;
  MDB_dbi blobs = 0;
  MDB_dbi intents = 0;
  MDB_dbi repairs = 0;
};

// Rewrites every value of the database dbi with upgrade (nullopt: malformed, reported with
// bad(key)). Returns false when the map is full.
template <typename Upgrade, typename Bad>
Result<bool> rewrite_all(MDB_txn* txn, MDB_dbi dbi, Upgrade upgrade, Bad bad) {
  MDB_cursor* raw = nullptr;
  if (const int rc = mdb_cursor_open(txn, dbi, &raw); rc != MDB_SUCCESS) return lmdb_error(rc);
  const Cursor cursor(raw);
  MDB_val k{}, v{};
  int rc = mdb_cursor_get(raw, &k, &v, MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(raw, &k, &v, MDB_NEXT)) {
    const std::optional<std::string> upgraded = upgrade(as_view(v));
    if (!upgraded) return bad(as_view(k));
    // The key is copied: k points into the page the put rewrites.
    const std::string key(as_view(k));
    MDB_val at = as_val(key);
    MDB_val value = as_val(*upgraded);
    const int put = mdb_cursor_put(raw, &at, &value, MDB_CURRENT);
    if (put == MDB_MAP_FULL) return false;
    if (put != MDB_SUCCESS) return lmdb_error(put);
  }
  if (rc != MDB_NOTFOUND) return lmdb_error(rc);
  return true;
}

// Format 2 -> 3: every bucket entry, and the previous record of every intent, gain a checksum
// (unknown) and a write time (0).
Result<bool> add_checksums(MDB_txn* txn, const Databases& dbs) {
  auto blobs = rewrite_all(txn, dbs.blobs, upgrade_bucket_from_format_1, corrupt_bucket);
  if (!blobs || !*blobs) return blobs;
  return rewrite_all(txn, dbs.intents, upgrade_intent_from_format_1, [](std::string_view token) {
    return Error::database("corrupt intent " + std::string(token));
  });
}

// Returns the number of keys the meta database records (0 when it records none).
Result<std::uint64_t> recorded_keys(MDB_txn* txn, MDB_dbi meta) {
  MDB_val k = as_val(std::string_view("keys"));
  MDB_val v{};
  const int rc = mdb_get(txn, meta, &k, &v);
  if (rc == MDB_NOTFOUND) return std::uint64_t{0};
  if (rc != MDB_SUCCESS) return lmdb_error(rc);
  const std::string_view text = as_view(v);
  std::uint64_t keys = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), keys);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return Error::database("corrupt key count \"" + std::string(text) + '"');
  }
  return keys;
}

// Records keys as the number of keys. Returns false when the map is full.
Result<bool> record_keys(MDB_txn* txn, MDB_dbi meta, std::uint64_t keys) {
  const std::string text = std::to_string(keys);
  MDB_val k = as_val(std::string_view("keys"));
  MDB_val v = as_val(text);
  const int rc = mdb_put(txn, meta, &k, &v, 0);
  if (rc == MDB_MAP_FULL) return false;
  if (rc != MDB_SUCCESS) return lmdb_error(rc);
  return true;
}

// Format 3 -> 4: the number of keys, counted once; every write keeps it from then on.
Result<bool> count_keys(MDB_txn* txn, const Databases& dbs) {
  MDB_cursor* raw = nullptr;
  if (const int rc = mdb_cursor_open(txn, dbs.blobs, &raw); rc != MDB_SUCCESS) {
    return lmdb_error(rc);
  }
  const Cursor cursor(raw);
  std::uint64_t keys = 0;
  MDB_val k{}, v{};
  int rc = mdb_cursor_get(raw, &k, &v, MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(raw, &k, &v, MDB_NEXT)) {
    std::string_view value = as_view(v);
    while (!value.empty()) {
      if (!take_entry(value)) return corrupt_bucket(as_view(k));
      keys += 1;
    }
  }
  if (rc != MDB_NOTFOUND) return lmdb_error(rc);
  return record_keys(txn, dbs.meta, keys);
}

// Format migrations: migrations[v] upgrades an index at format version v to v + 1, inside the
// transaction that opens it (false: the map is full, grow it and open again); version 0 is a
// new environment. Append a step to change the format; never edit one that has shipped.
using Migration = Result<bool> (*)(MDB_txn* txn, const Databases& dbs);
constexpr Migration migrations[] = {
    // 0 -> 1: the "meta" and "blobs" databases, which opening creates.
    [](MDB_txn*, const Databases&) -> Result<bool> { return true; },
    // 1 -> 2: the "intents" database, which opening creates.
    [](MDB_txn*, const Databases&) -> Result<bool> { return true; },
    // 2 -> 3: checksums and write times.
    add_checksums,
    // 3 -> 4: the "repairs" database, which opening creates, and the count of keys.
    count_keys,
    // 4 -> 5: entries may carry meta (a flag bit that entries of format 4 never set).
    [](MDB_txn*, const Databases&) -> Result<bool> { return true; },
};
constexpr unsigned format_version = static_cast<unsigned>(std::size(migrations));

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
struct Attempt {
  bool map_full = false;         // nothing was written; the map must grow before the next try
  std::vector<Applied> applied;  // when committed: what became of each write
};

// Returns the value stored for an intent (see the layout above).
std::string encode_intent(const Intent& intent) {
  std::string value;
  append_varint(value, intent.key.size());
  value += intent.key;
  const std::string previous = encode_volumes(intent.previous.volumes);
  append_entry(value, entry_of({}, intent.previous, previous));
  value += encode_volumes(intent.volumes);
  return value;
}

// Returns the intent of token stored as value, or nullopt if value is malformed.
std::optional<Intent> decode_intent(std::string_view token, std::string_view value) {
  const auto key = take_bytes(value);
  if (!key) return std::nullopt;
  const auto previous = take_entry(value);
  if (!previous) return std::nullopt;
  auto previous_record = record_of(*previous);
  auto volumes = parse_volumes(value);
  if (!previous_record || !volumes) return std::nullopt;
  return Intent{std::string(token), std::string(*key), std::move(*volumes),
                std::move(*previous_record)};
}

// Records or removes the intent a write carries. Returns false when the map is full.
Result<bool> write_intent(MDB_txn* txn, MDB_dbi intents, const Write& write) {
  if (write.begin_intent) {
    MDB_val k = as_val(write.begin_intent->token);
    const std::string value = encode_intent(*write.begin_intent);
    MDB_val v = as_val(value);
    const int rc = mdb_put(txn, intents, &k, &v, 0);
    if (rc == MDB_MAP_FULL) return false;
    if (rc != MDB_SUCCESS) return lmdb_error(rc);
  }
  if (write.end_intent) {
    MDB_val k = as_val(*write.end_intent);
    const int rc = mdb_del(txn, intents, &k, nullptr);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return lmdb_error(rc);
  }
  return true;
}

// Sets or clears the repair mark of the key cut into bucket and suffix. Returns false when the
// map is full.
Result<bool> write_repair_mark(MDB_txn* txn, MDB_dbi repairs, std::string_view bucket,
                               std::string_view suffix, RepairMark mark) {
  auto old = find_bucket(txn, repairs, bucket);
  if (!old) return old.error();
  if (!*old && mark == RepairMark::clear) return true;
  const auto updated = rewrite_bucket(old->value_or(""), suffix,
                                      mark == RepairMark::set ? std::optional(Record{})
                                                              : std::optional<Record>());
  if (!updated) return corrupt_bucket(bucket);
  MDB_val k = as_val(bucket);
  MDB_val v = as_val(*updated);
  const int rc = updated->empty() ? mdb_del(txn, repairs, &k, nullptr)
                                  : mdb_put(txn, repairs, &k, &v, 0);
  if (rc == MDB_MAP_FULL) return false;
  if (rc != MDB_SUCCESS) return lmdb_error(rc);
  return true;
}

// Applies one write inside txn if its condition holds, adding to keys_added the keys it
// created (1), removed (-1) or neither (0); returns what became of it, or nullopt when the map
// is full.
Result<std::optional<Applied>> write_one(MDB_txn* txn, const Databases& dbs,
                                         std::size_t bucket_bytes, const Write& write,
                                         std::int64_t& keys_added) {
  if (write.key.empty()) return Error::database("empty key");
  const auto [bucket, suffix] = split_key(write.key, bucket_bytes);
  auto old = find_bucket(txn, dbs.blobs, bucket);
  if (!old) return old.error();
  auto current = record_in_bucket(old->value_or(""), bucket, suffix, write.key);
  // An unconditional write may replace an entry whose record cannot be read (corrupt): it is
  // there, so replacing it adds no key.
  if (!current && write.expected != Expected::anything()) return current.error();
  if (current && !write.expected.holds(*current)) {
    return std::optional(Applied::condition_failed);
  }
  keys_added += (write.record ? 1 : 0) - (!current || *current ? 1 : 0);
  if (*old || write.record) {  // (deleting a key that is not there changes nothing)
    const auto updated = rewrite_bucket(old->value_or(""), suffix, write.record);
    if (!updated) return corrupt_bucket(bucket);
    MDB_val k = as_val(bucket);
    MDB_val v = as_val(*updated);
    const int rc = updated->empty() ? mdb_del(txn, dbs.blobs, &k, nullptr)
                                    : mdb_put(txn, dbs.blobs, &k, &v, 0);
    if (rc == MDB_MAP_FULL) return std::optional<Applied>();
    if (rc != MDB_SUCCESS) return lmdb_error(rc);
  }
  auto intent = write_intent(txn, dbs.intents, write);
  if (!intent) return intent.error();
  if (!*intent) return std::optional<Applied>();
  if (write.repair != RepairMark::keep) {
    auto marked = write_repair_mark(txn, dbs.repairs, bucket, suffix, write.repair);
    if (!marked) return marked.error();
    if (!*marked) return std::optional<Applied>();
  }
  return std::optional(Applied::written);
}

// Writes batch in one transaction.
Result<Attempt> try_apply(MDB_env* env, MapGate& gate, const Databases& dbs,
                          std::size_t bucket_bytes, std::span<const Write> batch) {
  auto txn = begin(env, gate, 0);
  if (!txn) return txn.error();
  Attempt attempt;
  attempt.applied.reserve(batch.size());
  std::int64_t keys_added = 0;
  for (const Write& write : batch) {
    auto applied = write_one(txn->txn.get(), dbs, bucket_bytes, write, keys_added);
    if (!applied) return applied.error();
    if (!*applied) return Attempt{true, {}};
    attempt.applied.push_back(**applied);
  }
  if (keys_added != 0) {
    auto keys = recorded_keys(txn->txn.get(), dbs.meta);
    if (!keys) return keys.error();
    const auto now = std::max<std::int64_t>(static_cast<std::int64_t>(*keys) + keys_added, 0);
    auto kept = record_keys(txn->txn.get(), dbs.meta, static_cast<std::uint64_t>(now));
    if (!kept) return kept.error();
    if (!*kept) return Attempt{true, {}};
  }
  const int rc = commit(txn->txn);
  if (rc == MDB_MAP_FULL) return Attempt{true, {}};
  if (rc != MDB_SUCCESS) return lmdb_error(rc);
  return attempt;
}

// Returns the format version recorded as text ("mkv-lmdb <V> <B>"), or an error when the text
// is not of that form, B is not bucket_bytes, or V is newer than this build's.
Result<unsigned> recorded_version(std::string_view text, std::size_t bucket_bytes) {
  const std::string expected = std::string(format_name) + std::to_string(format_version) + ' ' +
                               std::to_string(bucket_bytes);
  const auto refuse = [&] {
    return Error::database("index format \"" + std::string(text) +
                           "\" is not supported (this build uses \"" + expected + "\")");
  };
  if (!text.starts_with(format_name)) return refuse();
  std::string_view rest = text.substr(format_name.size());
  unsigned version = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), version);
  if (ec != std::errc{} || version > format_version ||
      std::string_view(end, rest.data() + rest.size()) != ' ' + std::to_string(bucket_bytes)) {
    return refuse();
  }
  return version;
}

// Opens (creating if missing) the named databases of a freshly opened env, brings the recorded
// format up to this build's with the migrations, and returns the databases; nullopt when a
// migration found the map full (nothing was changed).
Result<std::optional<Databases>> try_open_databases(MDB_env* env, std::size_t bucket_bytes) {
  MDB_txn* raw = nullptr;
  if (const int rc = mdb_txn_begin(env, nullptr, 0, &raw); rc != MDB_SUCCESS) return lmdb_error(rc);
  Txn txn(raw);
  Databases dbs;
  int rc = mdb_dbi_open(raw, "meta", MDB_CREATE, &dbs.meta);
  if (rc == MDB_SUCCESS) rc = mdb_dbi_open(raw, "blobs", MDB_CREATE, &dbs.blobs);
  if (rc == MDB_SUCCESS) rc = mdb_dbi_open(raw, "intents", MDB_CREATE, &dbs.intents);
  if (rc == MDB_SUCCESS) rc = mdb_dbi_open(raw, "repairs", MDB_CREATE, &dbs.repairs);
  if (rc != MDB_SUCCESS) return lmdb_error(rc);

  auto format = find_bucket(raw, dbs.meta, "format");
  if (!format) return format.error();
  unsigned version = 0;
  if (*format) {
    auto recorded = recorded_version(**format, bucket_bytes);
    if (!recorded) return recorded.error();
    version = *recorded;
  }
  if (version < format_version) {
    for (unsigned v = version; v < format_version; ++v) {
      auto migrated = migrations[v](raw, dbs);
      if (!migrated) return migrated.error();
      if (!*migrated) return std::optional<Databases>();
    }
    const std::string current = std::string(format_name) + std::to_string(format_version) +
                                ' ' + std::to_string(bucket_bytes);
    MDB_val k = as_val("format");
    MDB_val v = as_val(current);
    rc = mdb_put(raw, dbs.meta, &k, &v, 0);
    if (rc == MDB_MAP_FULL) return std::optional<Databases>();
    if (rc != MDB_SUCCESS) return lmdb_error(rc);
  }
  // Committed even when nothing changed: the database handles opened in it live on only then.
  if (rc = commit(txn); rc == MDB_MAP_FULL) return std::optional<Databases>();
  if (rc != MDB_SUCCESS) return lmdb_error(rc);
  return std::optional<Databases>(dbs);
}

// As try_open_databases, doubling the map until the migrations fit.
Result<Databases> open_databases(MDB_env* env, std::size_t bucket_bytes) {
  for (;;) {
    auto dbs = try_open_databases(env, bucket_bytes);
    if (!dbs) return dbs.error();
    if (*dbs) return **dbs;
    MDB_envinfo info;
    int rc = mdb_env_info(env, &info);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(env, info.me_mapsize * 2);
    if (rc != MDB_SUCCESS) return lmdb_error(rc);
  }
}

}  // namespace

struct LmdbIndex::State {
  std::string path;
  Env env;
  Databases dbs;
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
  state->path = path;
  state->env = Env(raw);
  // An existing file keeps its larger recorded map size.
  int rc = mdb_env_set_maxdbs(raw, 4);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_maxreaders(raw, max_readers);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(raw, initial_map_bytes);
  if (rc == MDB_SUCCESS) rc = mdb_env_open(raw, path.c_str(), MDB_NOSUBDIR | MDB_NOTLS, 0644);
  if (rc != MDB_SUCCESS) return lmdb_error(rc);
  // Free the reader slots of processes that died with a read transaction open.
  int dead = 0;
  if (rc = mdb_reader_check(raw, &dead); rc != MDB_SUCCESS) return lmdb_error(rc);

  state->bucket_bytes = static_cast<std::size_t>(mdb_env_get_maxkeysize(raw));
  auto dbs = open_databases(raw, state->bucket_bytes);
  if (!dbs) return dbs.error();
  state->dbs = *dbs;
  return LmdbIndex(std::move(state));
}

Result<std::optional<Record>> LmdbIndex::get(std::string_view key) {
  if (key.empty()) return std::optional<Record>();  // LMDB cannot hold an empty key
  auto txn = begin(state_->env.get(), state_->gate, MDB_RDONLY);
  if (!txn) return txn.error();
  const auto [bucket, suffix] = split_key(key, state_->bucket_bytes);
  auto value = find_bucket(txn->txn.get(), state_->dbs.blobs, bucket);
  if (!value) return value.error();
  if (!*value) return std::optional<Record>();
  return record_in_bucket(**value, bucket, suffix, key);
}

Result<std::vector<std::string>> LmdbIndex::list(std::string_view prefix, std::string_view start,
                                                 std::size_t limit) {
  std::vector<std::string> keys;
  if (limit == 0) return keys;
  auto txn = begin(state_->env.get(), state_->gate, MDB_RDONLY);
  if (!txn) return txn.error();
  // Keys that start with prefix are consecutive from prefix on; none lie below it.
  const auto walked = walk_from(txn->txn.get(), state_->dbs.blobs, state_->bucket_bytes,
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
  const auto walked = walk_from(txn->txn.get(), state_->dbs.blobs, state_->bucket_bytes, start,
                                [&](const std::string& key, const BucketEntry& entry) {
                                  auto record = record_of(entry);
                                  if (!record) {
                                    corrupt = corrupt_volumes(key);
                                    return false;
                                  }
                                  entries.push_back({key, std::move(*record)});
                                  return entries.size() < limit;
                                });
  if (!walked) return walked.error();
  if (corrupt) return *corrupt;
  return entries;
}

Result<std::vector<Intent>> LmdbIndex::intents() {
  auto txn = begin(state_->env.get(), state_->gate, MDB_RDONLY);
  if (!txn) return txn.error();
  MDB_cursor* raw = nullptr;
  if (const int rc = mdb_cursor_open(txn->txn.get(), state_->dbs.intents, &raw); rc != MDB_SUCCESS) {
    return lmdb_error(rc);
  }
  const Cursor cursor(raw);
  std::vector<Intent> intents;
  MDB_val k{}, v{};
  int rc = mdb_cursor_get(raw, &k, &v, MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(raw, &k, &v, MDB_NEXT)) {
    auto intent = decode_intent(as_view(k), as_view(v));
    if (!intent) return Error::database("corrupt intent " + std::string(as_view(k)));
    intents.push_back(std::move(*intent));
  }
  if (rc != MDB_NOTFOUND) return lmdb_error(rc);
  return intents;
}

Result<std::uint64_t> LmdbIndex::count() {
  auto txn = begin(state_->env.get(), state_->gate, MDB_RDONLY);
  if (!txn) return txn.error();
  return recorded_keys(txn->txn.get(), state_->dbs.meta);
}

Result<std::vector<std::string>> LmdbIndex::repairs(std::string_view start, std::size_t limit) {
  std::vector<std::string> keys;
  if (limit == 0) return keys;
  auto txn = begin(state_->env.get(), state_->gate, MDB_RDONLY);
  if (!txn) return txn.error();
  const auto walked = walk_from(txn->txn.get(), state_->dbs.repairs, state_->bucket_bytes, start,
                                [&](const std::string& key, const BucketEntry&) {
                                  keys.push_back(key);
                                  return keys.size() < limit;
                                });
  if (!walked) return walked.error();
  return keys;
}

Result<std::vector<Applied>> LmdbIndex::apply(std::span<const Write> batch) {
  if (batch.empty()) return std::vector<Applied>();
  const std::lock_guard lock(state_->write_mutex);
  for (;;) {
    auto attempt = try_apply(state_->env.get(), state_->gate, state_->dbs, state_->bucket_bytes,
                             batch);
    if (!attempt) return attempt.error();
    if (!attempt->map_full) return std::move(attempt->applied);
    // The map is full and the transaction was aborted: grow it and write the batch again.
    if (auto grown = grow_map(state_->env.get(), state_->gate); !grown) return grown.error();
  }
}

Result<std::optional<std::string>> LmdbIndex::read_journal(std::string_view name) {
  return local::read_journal(local::journal_path(state_->path, name), name);
}

Result<void> LmdbIndex::write_journal(std::string_view name, std::string_view text) {
  return local::write_journal(local::journal_path(state_->path, name), name, text);
}

Result<void> LmdbIndex::remove_journal(std::string_view name) {
  return local::remove_journal(local::journal_path(state_->path, name), name);
}

}  // namespace mkv
