// libFuzzer target: parsing -v volume URLs (include/mkv/volume.h). Any bytes: refused, or a
// Volume whose URL is http://, has a host, a port in 1..65535, no trailing '/', and parses
// again to the same Volume.
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto v = mkv::parse_volume_url(bytes)) {
    require(v->url.starts_with("http://"));
    require(!v->host.empty());
    require(!v->url.ends_with("/"));
    const unsigned long port = std::stoul(v->port);
    require(port >= 1 && port <= 65535);
    const auto again = mkv::parse_volume_url(v->url);
    require(again && *again == *v);
  }
  (void)mkv::parse_volume_list(bytes);
  return 0;
}
