// Records to and from the PostgreSQL index's rows: the parameters of each read and the
// decoding of its rows, shared by the blocking and the asynchronous reads.
#pragma once

#include "pg_handles.h"

#include "mkv/list_query.h"
#include "mkv/record.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkv::pg {

// Returns the record in the columns volumes, size, md5, modified, meta (from first on) of row.
inline Result<Record> record_at(const PGresult* rows, int row, int first, std::string_view key) {
  auto volumes = parse_volumes(bytes_at(rows, row, first));
  if (!volumes) return Error::database("corrupt volumes for key " + std::string(key));
  Record record{std::move(*volumes), static_cast<std::uint64_t>(int8_at(rows, row, first + 1))};
  if (!is_null(rows, row, first + 2)) {
    const std::string md5 = bytes_at(rows, row, first + 2);
    if (md5.size() != 16) return Error::database("corrupt checksum for key " + std::string(key));
    Md5 digest;
    std::copy(md5.begin(), md5.end(), digest.begin());
    record.md5 = digest;
  }
  record.modified = int8_at(rows, row, first + 3);
  if (!is_null(rows, row, first + 4)) record.meta = bytes_at(rows, row, first + 4);
  return record;
}

// Adds record's volumes, size, md5, modified and meta to params.
inline void add_record(Params& params, const Record& record) {
  params.text(encode_volumes(record.volumes)).integer(static_cast<std::int64_t>(record.size));
  if (record.md5) {
    params.bytes(std::string_view(reinterpret_cast<const char*>(record.md5->data()), 16));
  } else {
    params.null();
  }
  params.integer(record.modified);
  if (record.meta.empty()) {
    params.null();
  } else {
    params.bytes(record.meta);
  }
}

// Adds five NULLs in place of a record.
inline void add_no_record(Params& params) {
  for (int i = 0; i < 5; ++i) params.null();
}

// A row limit as int8.
inline std::int64_t row_limit(std::size_t limit) {
  return static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
}

// The parameters of list_range_statement (when upper is set) or list_from_statement.
inline Params list_params(std::string_view prefix, std::string_view start,
                          const std::optional<std::string>& upper, std::size_t limit) {
  Params p;
  p.bytes(std::max(prefix, start));
  if (upper) p.bytes(*upper);
  p.integer(row_limit(limit));
  return p;
}

// Returns the record in get_statement's rows, if any.
inline Result<std::optional<Record>> decode_get(const PGresult* rows, std::string_view key) {
  if (PQntuples(rows) == 0) return std::optional<Record>();
  auto record = record_at(rows, 0, 0, key);
  if (!record) return record.error();
  return std::optional<Record>(std::move(*record));
}

// Returns the first column of every row, as bytes.
inline std::vector<std::string> decode_keys(const PGresult* rows) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<std::size_t>(PQntuples(rows)));
  for (int i = 0; i < PQntuples(rows); ++i) keys.push_back(bytes_at(rows, i, 0));
  return keys;
}

// Returns scan_statement's rows as entries.
inline Result<std::vector<Entry>> decode_entries(const PGresult* rows) {
  std::vector<Entry> entries;
  entries.reserve(static_cast<std::size_t>(PQntuples(rows)));
  for (int i = 0; i < PQntuples(rows); ++i) {
    std::string key = bytes_at(rows, i, 0);
    auto record = record_at(rows, i, 1, key);
    if (!record) return record.error();
    entries.push_back({std::move(key), std::move(*record)});
  }
  return entries;
}

}  // namespace mkv::pg
