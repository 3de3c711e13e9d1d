// Index conformance: batches of 100k keys apply in one transaction, list, and delete.
#include "index_under_test.h"

#include <algorithm>

using mkv::Write;

TEST_CASE("a batch of 100k keys applies, lists and deletes in one go") {
  constexpr int count = 100000;
  ScratchDir dir;
  auto index = open_index(dir.index_path());

  std::vector<std::string> keys;
  std::vector<Write> batch;
  keys.reserve(count);
  batch.reserve(count);
  for (int i = 0; i < count; ++i) {
    // One key in ten is long, so long and short keys mix in one batch.
    std::string key = "bulk/" + std::to_string(i % 100) + "/" + std::to_string(i);
    if (i % 10 == 0) key += "/" + std::string(600, 'L');
    keys.push_back(key);
    batch.push_back(put(std::move(key), record(i, {"http://v" + std::to_string(i % 3) + ":80"})));
  }
  apply_ok(index, batch);
  std::sort(keys.begin(), keys.end());

  CHECK(list_paged(index, "bulk/", 10000) == keys);
  CHECK(list_paged(index, "bulk/42/", 1000).size() == count / 100);
  CHECK(list_ok(index, "", "", 10) == std::vector<std::string>(keys.begin(), keys.begin() + 10));
  CHECK(scan_all(index, 10000).size() == count);
  for (const int i : {0, 1, 9, 10, 4242, 99999}) {
    CAPTURE(i);
    std::string key = "bulk/" + std::to_string(i % 100) + "/" + std::to_string(i);
    if (i % 10 == 0) key += "/" + std::string(600, 'L');
    CHECK(get_ok(index, key) == record(i, {"http://v" + std::to_string(i % 3) + ":80"}));
  }

  std::vector<Write> deletes;
  deletes.reserve(count);
  for (const auto& key : keys) deletes.push_back(erase(key));
  apply_ok(index, deletes);
  CHECK(list_ok(index, "", "", 10).empty());
  CHECK(scan_ok(index, "", 10).empty());
}
