// libFuzzer target, temporary: compares the percent-decoding, key encoding, list query and
// volume URL parsing mkv used before Boost.URL (fuzz/before_boost_url.h) with today's, on the
// same bytes. Any difference in what is accepted or what it decodes to aborts, and so does a
// different error text for keys and list queries (the texts clients see). For volume URLs
// (given only on mkv's command line) the error text may be worded differently, and a URL the
// old parser took although Boost.URL finds it malformed (a host with bytes no URL may hold) is
// printed for review instead of aborting.
#include "before_boost_url.h"

#include "mkv/key.h"
#include "mkv/list_query.h"
#include "mkv/volume.h"

#include <boost/json/src.hpp>
#include <boost/url/src.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

template <class T>
void same(const mkv::Result<T>& before, const mkv::Result<T>& after, const char* what,
          std::string_view input, bool same_text = true) {
  const bool equal = before.has_value() == after.has_value() &&
                     (before.has_value() ? *before == *after
                                         : !same_text || before.error().detail == after.error().detail);
  if (equal) return;
  std::fprintf(stderr, "%s differs on [%.*s]: before %s, after %s\n", what,
               static_cast<int>(input.size()), input.data(),
               before ? "accepted" : before.error().detail.c_str(),
               after ? "accepted" : after.error().detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  same(mkv::before_boost_url::decode_key(input), mkv::decode_key(input), "decode_key", input);
  if (mkv::before_boost_url::encode_key(input) != mkv::encode_key(input)) std::abort();
  if (mkv::before_boost_url::percent_decode(input) != mkv::percent_decode(input)) std::abort();
  if (mkv::before_boost_url::query_decode(input) != mkv::query_decode(input)) std::abort();
  same(mkv::before_boost_url::parse_list_query(input), mkv::parse_list_query(input),
       "parse_list_query", input);
  const auto before = mkv::before_boost_url::parse_volume_url(input);
  const auto after = mkv::parse_volume_url(input);
  if (before && !after) {
    std::string shown;
    for (const char c : input) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte >= 0x21 && byte < 0x7F) {
        shown.push_back(c);
      } else {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
        shown += escaped;
      }
    }
    std::fprintf(stderr, "stricter: %s\n", shown.c_str());
  } else {
    same(before, after, "parse_volume_url", input, false);
  }
  return 0;
}
