// What a PostgresIndex holds, shared by its source files: the reader sessions, the writer
// session, and the row of the count of keys its writes keep.
#pragma once

#include "pg_handles.h"
#include "pg_session.h"
#include "postgres_index.h"

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace mkv {

struct PostgresIndex::State {
  State(const std::string& conninfo, const std::string& schema, pg::Connection w, int s,
        std::string id)
      : readers(conninfo, schema), writer(std::move(w)), shard(s), server_id(std::move(id)) {}

  pg::SessionPool readers;
  std::mutex write_mutex;  // apply() is called by one thread at a time; this keeps misuse safe
  pg::Connection writer;   // null after it broke, until the next apply() connects again
  int shard;               // the counts row this index's writes keep
  std::string server_id;   // the prefix of its lease tokens: "host:pid:random:", or for
                          // a serve "NAME/random:" (take_identity)
  std::atomic<std::uint64_t> leases_taken{0};
  std::atomic<std::uint64_t> commits{0};  // write transactions attempted (their marks' numbers)
  std::string last_commit;                 // the mark of the last one that committed
  boost::asio::thread_pool connector{1};  // opens sessions for async_*() off the IO threads
};

namespace pg_store {

// Brings the database at conninfo to the current schema version (creating mkv's schemas in an
// empty database), once even when several processes start at once; refuses a newer version.
Result<void> migrate(const std::string& conninfo);

}  // namespace pg_store

}  // namespace mkv
