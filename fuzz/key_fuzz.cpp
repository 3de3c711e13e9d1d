// libFuzzer target: key decoding and validation (include/mkv/key.h).
// Any bytes as a request path: decode_key() either refuses them or returns a key that
// key_problem() accepts, that has no "." or ".." segment, no control byte, at most 1024 bytes,
// and that encode_key() turns back into a path decoding to the same key. Any bytes as a key:
// encode_key() output is plain ASCII that percent_decode() maps back exactly.
#include "mkv/key.h"
#include "mkv/volume.h"

#include <boost/url/src.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

// Checks what every accepted key must be.
void check_key(std::string_view key) {
  require(!key.empty() && key.size() <= mkv::max_key_bytes);
  require(!mkv::key_problem(key));
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    require(c >= 0x20 && c != 0x7F);
  }
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = key.find('/', begin);
    const std::string_view segment = key.substr(begin, end == std::string_view::npos ? key.npos : end - begin);
    require(!segment.empty() && segment.size() <= mkv::max_segment_bytes);
    require(segment.front() != '.');
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  // The encoded path reaches the same key, and is what a volume sees.
  const std::string encoded = mkv::encode_key(key);
  for (const char c : encoded) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '%';
    require(plain);
  }
  const auto again = mkv::decode_key("/" + encoded);
  require(again && *again == key);
  const std::string target = mkv::volume_target(mkv::Volume{"http://v", "v", "80", "/p"}, key);
  require(target.starts_with("/p/"));
  require(target.find("/../") == std::string::npos && target.find("/./") == std::string::npos);
  for (const auto parent : mkv::parent_keys(key)) {
    require(key.starts_with(parent) && key[parent.size()] == '/');
    require(!mkv::key_problem(parent));
  }
  require(mkv::child_prefix(key) == std::string(key) + "/");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // As a request path (with and without the leading '/').
  if (auto key = mkv::decode_key(bytes)) check_key(*key);
  std::string path = "/";
  path += bytes;
  if (auto key = mkv::decode_key(path)) check_key(*key);

  // As a key: accepted ones pass every check; any bytes survive encode then decode.
  if (!mkv::key_problem(bytes)) check_key(bytes);
  const std::string encoded = mkv::encode_key(bytes);
  const auto decoded = mkv::percent_decode(encoded);
  require(decoded && *decoded == bytes);
  return 0;
}
