// The layout of the LMDB index's values (pure, no LMDB calls): how a key is cut into the
// bucket it is stored under, and how a bucket's entries are encoded, found and rewritten.
//
// A key is stored in the bucket named by its first B bytes (the whole key when it is
// shorter), together with every other key that shares those B bytes; B is LMDB's key size
// limit. Bucket value: one or more entries back to back, in ascending order of suffix. An
// entry of format 2:
//   varint suffix length, suffix (the key's bytes after the first B),
//   varint size, varint volumes length, volumes (the JSON text of encode_volumes),
//   one byte of flags: bit 0 the MD5 is known, bit 1 the entry has meta (other bits 0),
//   the 16 bytes of the MD5 when known,
//   varint modified (seconds since the epoch),
//   when it has meta: varint meta length, meta (Record::meta)
// Format 1 (every release before checksums) ended after the volumes. Before index format 5 the
// flags byte was 0 or 1 (no entry had meta), so those entries read the same.
// varint is unsigned LEB128 (7 bits a byte, low bits first, high bit = more follows).
#pragma once

#include "mkv/error.h"
#include "mkv/record.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mkv::lmdb {

// A key cut into the bucket it lives in and the rest of it.
struct KeyParts {
  std::string_view bucket;
  std::string_view suffix;
};

inline KeyParts split_key(std::string_view key, std::size_t bucket_bytes) {
  const std::size_t cut = std::min(key.size(), bucket_bytes);
  return {key.substr(0, cut), key.substr(cut)};
}

inline void append_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads a varint from the front of in and removes it; nullopt if in does not start with one.
inline std::optional<std::uint64_t> take_varint(std::string_view& in) {
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
inline std::optional<std::string_view> take_bytes(std::string_view& in) {
  const auto length = take_varint(in);
  if (!length || *length > in.size()) return std::nullopt;
  const std::string_view bytes = in.substr(0, *length);
  in.remove_prefix(*length);
  return bytes;
}

// One key's entry in a bucket value; the views point into the value.
struct BucketEntry {
  std::string_view suffix;
  std::uint64_t size = 0;
  std::string_view volumes;  // the JSON text
  std::optional<Md5> md5;
  std::int64_t modified = 0;
  std::string_view meta;
};

inline constexpr char has_md5_flag = 1;
inline constexpr char has_meta_flag = 2;

// Reads the entry at the front of a bucket value of format `format` (1 or 2) and removes it;
// nullopt if malformed.
inline std::optional<BucketEntry> take_entry(std::string_view& value, unsigned format = 2) {
  BucketEntry entry;
  const auto suffix = take_bytes(value);
  if (!suffix) return std::nullopt;
  const auto size = take_varint(value);
  if (!size) return std::nullopt;
  const auto volumes = take_bytes(value);
  if (!volumes) return std::nullopt;
  entry.suffix = *suffix;
  entry.size = *size;
  entry.volumes = *volumes;
  if (format < 2) return entry;
  if (value.empty()) return std::nullopt;
  const char flags = value.front();
  value.remove_prefix(1);
  if ((flags & ~(has_md5_flag | has_meta_flag)) != 0) return std::nullopt;
  if (flags & has_md5_flag) {
    if (value.size() < 16) return std::nullopt;
    Md5 digest;
    for (std::size_t i = 0; i < 16; ++i) digest[i] = static_cast<std::uint8_t>(value[i]);
    value.remove_prefix(16);
    entry.md5 = digest;
  }
  const auto modified = take_varint(value);
  if (!modified) return std::nullopt;
  entry.modified = static_cast<std::int64_t>(*modified);
  if (flags & has_meta_flag) {
    const auto meta = take_bytes(value);
    if (!meta || meta->empty()) return std::nullopt;
    entry.meta = *meta;
  }
  return entry;
}

// Appends an entry of format 2.
inline void append_entry(std::string& out, const BucketEntry& e) {
  append_varint(out, e.suffix.size());
  out.append(e.suffix);
  append_varint(out, e.size);
  append_varint(out, e.volumes.size());
  out.append(e.volumes);
  out.push_back(static_cast<char>((e.md5 ? has_md5_flag : 0) |
                                  (e.meta.empty() ? 0 : has_meta_flag)));
  if (e.md5) out.append(reinterpret_cast<const char*>(e.md5->data()), e.md5->size());
  append_varint(out, static_cast<std::uint64_t>(std::max<std::int64_t>(e.modified, 0)));
  if (!e.meta.empty()) {
    append_varint(out, e.meta.size());
    out.append(e.meta);
  }
}

// Returns the entry that stores record under suffix; volumes is the record's encode_volumes
// text, which the entry points into (as it does into record's meta).
inline BucketEntry entry_of(std::string_view suffix, const Record& record,
                            std::string_view volumes) {
  return BucketEntry{suffix, record.size, volumes, record.md5, record.modified, record.meta};
}

// Returns the record an entry stores, or nullopt if its volumes are not a JSON array of strings.
inline std::optional<Record> record_of(const BucketEntry& entry) {
  auto volumes = parse_volumes(entry.volumes);
  if (!volumes) return std::nullopt;
  return Record{std::move(*volumes), entry.size, entry.md5, entry.modified,
                std::string(entry.meta)};
}

// Returns bucket value old with the entry of suffix set to record, or removed when record is
// empty; "" means the bucket is left empty. nullopt if old is malformed.
inline std::optional<std::string> rewrite_bucket(std::string_view old, std::string_view suffix,
                                                 const std::optional<Record>& record) {
  std::string out;
  out.reserve(old.size() + 96);
  bool placed = false;
  const auto place = [&] {
    if (record) {
      const std::string volumes = encode_volumes(record->volumes);
      append_entry(out, entry_of(suffix, *record, volumes));
    }
    placed = true;
  };
  while (!old.empty()) {
    const auto entry = take_entry(old);
    if (!entry) return std::nullopt;
    if (!placed && entry->suffix >= suffix) {
      place();
      if (entry->suffix == suffix) continue;  // the key's old entry: replaced or removed
    }
    append_entry(out, *entry);
  }
  if (!placed) place();
  return out;
}

// Returns a bucket value of format 1 rewritten in format 2 (checksums unknown, write times 0),
// or nullopt if it is malformed.
inline std::optional<std::string> upgrade_bucket_from_format_1(std::string_view old) {
  std::string out;
  out.reserve(old.size() + 16);
  while (!old.empty()) {
    const auto entry = take_entry(old, 1);
    if (!entry) return std::nullopt;
    append_entry(out, *entry);
  }
  return out;
}

// Returns an intent value of format 1 (varint key length, key, varint previous size, varint
// length of the previous volumes, the previous volumes, the staged volumes) rewritten with its
// previous record as an entry of format 2 (lmdb_index.cpp), or nullopt if it is malformed.
inline std::optional<std::string> upgrade_intent_from_format_1(std::string_view old) {
  const auto key = take_bytes(old);
  if (!key) return std::nullopt;
  const auto size = take_varint(old);
  if (!size) return std::nullopt;
  const auto previous = take_bytes(old);
  if (!previous) return std::nullopt;
  std::string out;
  append_varint(out, key->size());
  out.append(*key);
  append_entry(out, BucketEntry{{}, *size, *previous, std::nullopt, 0, {}});
  out.append(old);  // the staged volumes
  return out;
}

inline Error corrupt_bucket(std::string_view bucket) {
  return Error::database("corrupt index entry under key " + std::string(bucket));
}

inline Error corrupt_volumes(std::string_view key) {
  return Error::database("corrupt volumes for key " + std::string(key));
}

// Returns the record stored for suffix in the bucket value, or nullopt if the bucket holds no
// entry for it; a database error names key when the bucket or the record is damaged.
inline Result<std::optional<Record>> record_in_bucket(std::string_view value,
                                                     std::string_view bucket,
                                                     std::string_view suffix,
                                                     std::string_view key) {
  while (!value.empty()) {
    const auto entry = take_entry(value);
    if (!entry) return corrupt_bucket(bucket);
    if (entry->suffix != suffix) continue;
    auto record = record_of(*entry);
    if (!record) return corrupt_volumes(key);
    return record;
  }
  return std::optional<Record>();
}

}  // namespace mkv::lmdb
