// S3 listing: query parsing, continuation tokens, whole listings of a table of keys (UTF-8,
// '/', keys that sort around a common prefix), and paging through them at every page size.
#include "mkv/s3_list.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using mkv::ListVersion;
using mkv::s3errc;

namespace {

// The keys of bucket "b", in byte order (Python's sorted() over the UTF-8 bytes gave it):
// "zz" sorts before "z€" because 'z' is 0x7A and '€' starts with 0xE2.
const std::vector<std::string> bucket_keys = {
    "cafe",
    "caf\xC3\xA9/menu",
    "caf\xC3\xA9s",
    "docs/a b+c.txt",
    "photos-old/x.jpg",
    "photos.txt",
    "photos/2023/a.jpg",
    "photos/2023/b.jpg",
    "photos/2024/c.jpg",
    "photos/readme",
    "photos0",
    "zz",
    "z\xE2\x82\xAC",
    "z\xF0\x9F\x98\x80/smile",
};

// An index in memory: bucket b's keys among those of buckets that sort around it, and b's
// marker.
struct FakeIndex {
  std::vector<mkv::ListedObject> objects;
  std::size_t fetches = 0;
  std::size_t rows = 0;

  FakeIndex() {
    // With bucket b's marker (CreateBucket's), which no listing shows.
    std::vector<std::string> native = {"a/x", "b-x/1", "b0/1", "bb/x", "b/.mkv-bucket"};
    for (const auto& key : bucket_keys) native.push_back("b/" + key);
    std::sort(native.begin(), native.end());
    for (std::size_t i = 0; i < native.size(); ++i) {
      objects.push_back({native[i], i, "\"e" + std::to_string(i) + "\"", 1700000000 + int(i)});
    }
  }

  mkv::FetchObjects fetch() {
    return [this](std::string_view prefix, std::string_view from,
                  std::size_t limit) -> mkv::S3Result<std::vector<mkv::ListedObject>> {
      ++fetches;
      std::vector<mkv::ListedObject> batch;
      auto it = std::lower_bound(objects.begin(), objects.end(), from,
                                 [](const auto& o, std::string_view k) { return o.key < k; });
      for (; it != objects.end() && batch.size() < limit && it->key.starts_with(prefix); ++it) {
        batch.push_back(*it);
      }
      rows += batch.size();
      return batch;
    };
  }
};

mkv::ListObjectsRequest parse(const std::string& query) {
  const auto params = mkv::parse_query(query);
  REQUIRE(params.has_value());
  const auto request = mkv::parse_list_objects(*params);
  REQUIRE(request.has_value());
  return *request;
}

std::vector<std::string> keys_of(const mkv::ListObjectsPage& page) {
  std::vector<std::string> keys;
  for (const auto& object : page.contents) keys.push_back(object.key);
  return keys;
}

}  // namespace

TEST_CASE("parse_list_objects reads these queries") {
  struct Case {
    std::string query;
    mkv::ListObjectsRequest parsed;
  };
  using R = mkv::ListObjectsRequest;
  const auto v1 = ListVersion::v1;
  const auto v2 = ListVersion::v2;
  const std::vector<Case> cases = {
      {"", R{}},
      {"list-type=2", R{v2, "", "", "", "", "", "", 1000, false}},
      {"list-type=2&prefix=photos%2F&delimiter=%2F&max-keys=2&start-after=photos%2F2023"
       "&encoding-type=url&fetch-owner=true",
       R{v2, "photos/", "/", "", "photos/2023", "", "photos/2023", 2, true}},
      {"prefix=caf%C3%A9&marker=a%20b", R{v1, "caf\xC3\xA9", "", "a b", "", "", "a b", 1000}},
      {"max-keys=0", R{v1, "", "", "", "", "", "", 0, false}},
      {"max-keys=007", R{v1, "", "", "", "", "", "", 7, false}},
      {"max-keys=1000", R{v1, "", "", "", "", "", "", 1000, false}},
      {"max-keys=5000", R{v1, "", "", "", "", "", "", 1000, false}},
      {"max-keys=99999999999999999999999", R{v1, "", "", "", "", "", "", 1000, false}},
      // Each version ignores the other's parameters, and parameters ListObjects lacks.
      {"list-type=2&marker=m", R{v2, "", "", "", "", "", "", 1000, false}},
      {"marker=m&continuation-token=!!&start-after=%00&x-id=ListObjects",
       R{v1, "", "", "m", "", "", "m", 1000, false}},
      // A continuation token wins over start-after.
      {"list-type=2&continuation-token=cGhvdG9zLw&start-after=a",
       R{v2, "", "", "", "a", "cGhvdG9zLw", "photos/", 1000, false}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.query);
    CHECK(parse(c.query) == c.parsed);
  }
}

TEST_CASE("parse_list_objects refuses these queries, naming the parameter") {
  struct Case {
    std::string query;
    std::string reason;
  };
  const std::string number = "max-keys must be a whole number, 0 or more";
  const std::string token = "the continuation-token is not one this server issued";
  const std::vector<Case> cases = {
      {"list-type=1", "list-type must be 2 (ListObjectsV2) when given"},
      {"list-type=", "list-type must be 2 (ListObjectsV2) when given"},
      {"max-keys=-1", number},
      {"max-keys=abc", number},
      {"max-keys=", number},
      {"max-keys=1.5", number},
      {"max-keys=%201", number},
      {"encoding-type=xml", "encoding-type must be url when given"},
      {"encoding-type=", "encoding-type must be url when given"},
      {"prefix=a&prefix=b", "the parameter prefix is given twice"},
      {"max-keys=1&max-keys=1", "the parameter max-keys is given twice"},
      {"prefix=%00", "prefix must be UTF-8 without control characters"},
      {"delimiter=%FF", "delimiter must be UTF-8 without control characters"},
      {"marker=a%0Ab", "marker must be UTF-8 without control characters"},
      {"list-type=2&start-after=%7F", "start-after must be UTF-8 without control characters"},
      {"list-type=2&continuation-token=", token},
      {"list-type=2&continuation-token=a", token},
      {"list-type=2&continuation-token=AB", token},  // bits past the last byte
      {"list-type=2&continuation-token=cGhvdG9zLw%3D%3D", token},
      {"list-type=2&continuation-token=cGhv+G9z", token},
  };
  for (const auto& c : cases) {
    CAPTURE(c.query);
    const auto params = mkv::parse_query(c.query);
    REQUIRE(params.has_value());
    const auto request = mkv::parse_list_objects(*params);
    REQUIRE_FALSE(request.has_value());
    CHECK(request.error().code == s3errc::invalid_argument);
    CHECK(request.error().message == c.reason);
  }
}

TEST_CASE("continuation tokens are base64url and give back any byte string") {
  // Expected tokens from Python: base64.urlsafe_b64encode(s).rstrip(b"=").
  CHECK(mkv::encode_continuation_token("photos/") == "cGhvdG9zLw");
  CHECK(mkv::encode_continuation_token("photos/2024/c.jpg") == "cGhvdG9zLzIwMjQvYy5qcGc");
  CHECK(mkv::encode_continuation_token("z\xF0\x9F\x98\x80/") == "evCfmIAv");
  CHECK(mkv::encode_continuation_token(std::string("\0\xFF\xFE", 3)) == "AP_-");
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (std::size_t size = 0; size <= all.size(); size += size < 8 ? 1 : 31) {
    for (std::size_t start = 0; start + size <= all.size(); start += 37) {
      const std::string position = all.substr(start, size);
      const auto back = mkv::decode_continuation_token(mkv::encode_continuation_token(position));
      REQUIRE(back.has_value());
      CHECK(*back == position);
    }
  }
  for (const std::string bad : {"a", "AB", "AAB", "ab=", "a/b", "a+b", "a.b", "abcde"}) {
    CAPTURE(bad);
    CHECK_FALSE(mkv::decode_continuation_token(bad));
  }
}

TEST_CASE("list_objects lists the bucket's keys as each request asks") {
  struct Case {
    std::string query;
    std::vector<std::string> contents;
    std::vector<std::string> common_prefixes;
  };
  const std::string cafe = "caf\xC3\xA9";
  const std::string euro = "z\xE2\x82\xAC";
  const std::string smile = "z\xF0\x9F\x98\x80/";
  const std::vector<Case> cases = {
      {"", bucket_keys, {}},
      {"list-type=2", bucket_keys, {}},
      {"delimiter=/",
       {"cafe", cafe + "s", "photos.txt", "photos0", "zz", euro},
       {cafe + "/", "docs/", "photos-old/", "photos/", smile}},
      {"prefix=photos&delimiter=/", {"photos.txt", "photos0"}, {"photos-old/", "photos/"}},
      {"prefix=photos/&delimiter=/", {"photos/readme"}, {"photos/2023/", "photos/2024/"}},
      {"prefix=photos/2023/", {"photos/2023/a.jpg", "photos/2023/b.jpg"}, {}},
      {"prefix=caf%C3%A9&delimiter=/", {cafe + "s"}, {cafe + "/"}},
      {"prefix=nothing&delimiter=/", {}, {}},
      {"prefix=p&delimiter=os",
       {},
       {"photos"}},  // a delimiter of two bytes, found after the prefix
      {"delimiter=%E2%82%AC",
       {"cafe", cafe + "/menu", cafe + "s", "docs/a b+c.txt", "photos-old/x.jpg", "photos.txt",
        "photos/2023/a.jpg", "photos/2023/b.jpg", "photos/2024/c.jpg", "photos/readme", "photos0",
        "zz", smile + "smile"},
       {euro}},
      // Resuming after a key, after a common prefix (skipped whole), inside one (shown again).
      {"list-type=2&start-after=photos/2023/a.jpg",
       {"photos/2023/b.jpg", "photos/2024/c.jpg", "photos/readme", "photos0", "zz", euro,
        smile + "smile"},
       {}},
      {"list-type=2&start-after=photos/&delimiter=/", {"photos0", "zz", euro}, {smile}},
      {"list-type=2&start-after=photos/2023/a.jpg&delimiter=/",
       {"photos0", "zz", euro},
       {"photos/", smile}},
      {"list-type=2&prefix=photos/&delimiter=/&start-after=photos/2023/",
       {"photos/readme"},
       {"photos/2024/"}},
      {"list-type=2&prefix=photos/&start-after=a",
       {"photos/2023/a.jpg", "photos/2023/b.jpg", "photos/2024/c.jpg", "photos/readme"},
       {}},
      {"list-type=2&start-after=zzz", {euro, smile + "smile"}, {}},
      {"list-type=2&start-after=" + smile + "smile", {}, {}},
      {"list-type=2&delimiter=/&continuation-token=cGhvdG9zLw&start-after=a",
       {"photos0", "zz", euro},
       {smile}},
      {"marker=photos/&delimiter=/", {"photos0", "zz", euro}, {smile}},
      {"marker=photos/2024/c.jpg", {"photos/readme", "photos0", "zz", euro, smile + "smile"}, {}},
      {"max-keys=0", {}, {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.query);
    FakeIndex index;
    const auto page = mkv::list_objects(parse(c.query), "b", index.fetch());
    REQUIRE(page.has_value());
    CHECK(keys_of(*page) == c.contents);
    CHECK(page->common_prefixes == c.common_prefixes);
    CHECK_FALSE(page->is_truncated);
    CHECK(page->key_count() == c.contents.size() + c.common_prefixes.size());
  }
}

TEST_CASE("a listed object keeps its size, ETag and time") {
  FakeIndex index;
  const auto page = mkv::list_objects(parse("prefix=photos.txt"), "b", index.fetch());
  REQUIRE(page.has_value());
  const auto native = std::find_if(index.objects.begin(), index.objects.end(),
                                   [](const auto& o) { return o.key == "b/photos.txt"; });
  REQUIRE(page->contents.size() == 1);
  CHECK(page->contents[0] ==
        mkv::ListedObject{"photos.txt", native->size, native->etag, native->modified});
}

TEST_CASE("paging through a listing at every max-keys gives the whole listing once") {
  const std::vector<std::string> queries = {"",
                                            "delimiter=/",
                                            "prefix=photos&delimiter=/",
                                            "prefix=photos/",
                                            "delimiter=os",
                                            "prefix=photos/&delimiter=/",
                                            "delimiter=%E2%82%AC"};
  for (const auto& query : queries) {
    for (const auto version : {ListVersion::v1, ListVersion::v2}) {
      auto request = parse(query);
      request.version = version;
      FakeIndex index;
      const auto whole = mkv::list_objects(request, "b", index.fetch()).value();
      const std::size_t entries = whole.key_count();
      for (std::size_t max_keys = 1; max_keys <= entries + 1; ++max_keys) {
        CAPTURE(query);
        CAPTURE(int(version));
        CAPTURE(max_keys);
        request.max_keys = max_keys;
        request.after.clear();
        mkv::ListObjectsPage joined;
        std::size_t pages = 0;
        while (true) {
          const auto page = mkv::list_objects(request, "b", index.fetch()).value();
          ++pages;
          REQUIRE(pages <= entries + 1);
          joined.contents.insert(joined.contents.end(), page.contents.begin(), page.contents.end());
          joined.common_prefixes.insert(joined.common_prefixes.end(), page.common_prefixes.begin(),
                                        page.common_prefixes.end());
          if (!page.is_truncated) break;
          CHECK(page.key_count() == max_keys);
          // The position a truncated page names: V1's NextMarker, V2's token.
          if (version == ListVersion::v1) {
            CHECK(page.next_continuation_token.empty());
            request.after = page.next_marker;
          } else {
            CHECK(page.next_marker.empty());
            request.after = mkv::decode_continuation_token(page.next_continuation_token).value();
          }
          CHECK_FALSE(request.after.empty());
        }
        CHECK(joined == whole);
        CHECK(pages == std::max<std::size_t>(1, (entries + max_keys - 1) / max_keys));
      }
    }
  }
}

TEST_CASE("V1 names the next marker when truncated, with or without a delimiter") {
  FakeIndex index;
  auto page = mkv::list_objects(parse("max-keys=2"), "b", index.fetch()).value();
  CHECK(page.is_truncated);
  CHECK(page.next_marker == "caf\xC3\xA9/menu");
  page = mkv::list_objects(parse("max-keys=2&delimiter=/"), "b", index.fetch()).value();
  CHECK(page.is_truncated);
  CHECK(page.next_marker == "caf\xC3\xA9/");  // a common prefix ends this page
  page = mkv::list_objects(parse("max-keys=2&delimiter=/&marker=caf%C3%A9/"), "b", index.fetch())
             .value();
  CHECK(keys_of(page) == std::vector<std::string>{"caf\xC3\xA9s"});
  CHECK(page.common_prefixes == std::vector<std::string>{"docs/"});
  CHECK(page.next_marker == "docs/");
  page = mkv::list_objects(parse("prefix=photos/2024/"), "b", index.fetch()).value();
  CHECK_FALSE(page.is_truncated);
  CHECK(page.next_marker.empty());
}

TEST_CASE("a common prefix with many keys under it costs one batch, not a scan") {
  FakeIndex index;
  std::vector<std::string> native;
  for (const auto& o : index.objects) native.push_back(o.key);
  for (int i = 0; i < 5000; ++i) native.push_back("b/big/" + std::to_string(10000 + i));
  std::sort(native.begin(), native.end());
  index.objects.clear();
  for (const auto& key : native) index.objects.push_back({key, 0, "\"e\"", 0});
  const auto page = mkv::list_objects(parse("delimiter=/"), "b", index.fetch()).value();
  CHECK(page.common_prefixes.size() == 6);
  CHECK(page.common_prefixes[0] == "big/");
  CHECK(index.rows <= mkv::delimited_fetch_limit + bucket_keys.size());
}

TEST_CASE("list_objects passes on the index's errors and refuses a broken fetch") {
  const mkv::FetchObjects failing =
      [](std::string_view, std::string_view,
         std::size_t) -> mkv::S3Result<std::vector<mkv::ListedObject>> {
    return mkv::s3_error(s3errc::internal_error, "index down");
  };
  auto page = mkv::list_objects(parse(""), "b", failing);
  REQUIRE_FALSE(page.has_value());
  CHECK(page.error() == mkv::s3_error(s3errc::internal_error, "index down"));

  const mkv::FetchObjects unordered =
      [](std::string_view, std::string_view,
         std::size_t) -> mkv::S3Result<std::vector<mkv::ListedObject>> {
    return std::vector<mkv::ListedObject>{{"b/y", 0, "", 0}, {"b/x", 0, "", 0}};
  };
  page = mkv::list_objects(parse(""), "b", unordered);
  REQUIRE_FALSE(page.has_value());
  CHECK(page.error().code == s3errc::internal_error);

  const mkv::FetchObjects outside =
      [](std::string_view, std::string_view,
         std::size_t) -> mkv::S3Result<std::vector<mkv::ListedObject>> {
    return std::vector<mkv::ListedObject>{{"c/x", 0, "", 0}};
  };
  CHECK_FALSE(mkv::list_objects(parse(""), "b", outside).has_value());

  FakeIndex index;
  page = mkv::list_objects(parse(""), ".mkv", index.fetch());
  REQUIRE_FALSE(page.has_value());
  CHECK(page.error().code == s3errc::invalid_bucket_name);
}

TEST_CASE("listing_text encodes key-like values only with encoding-type=url") {
  const auto plain = parse("");
  const auto url = parse("encoding-type=url");
  struct Case {
    std::string text;
    std::string encoded;
  };
  const std::vector<Case> cases = {
      {"photos/2023/a.jpg", "photos/2023/a.jpg"},
      {"a b+c.txt", "a%20b%2Bc.txt"},
      {"caf\xC3\xA9/", "caf%C3%A9/"},
      {"x&y<z>\"'", "x%26y%3Cz%3E%22%27"},
      {"100%~", "100%25~"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    CHECK(mkv::listing_text(plain, c.text) == c.text);
    CHECK(mkv::listing_text(url, c.text) == c.encoded);
  }
}
