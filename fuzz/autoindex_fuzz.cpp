// libFuzzer target: parsing nginx JSON directory listings and the rebuild walk's decision per
// entry (include/mkv/autoindex.h). Any bytes: parse_autoindex() either refuses them or returns
// entries whose names are single path segments; visit_entry() records only valid keys, descends
// only into directories whose prefix is a valid key plus '/', and never leads outside the root.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>

#include "mkv/autoindex.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

void check_walk(std::string_view dir_prefix, const mkv::ListingEntry& entry) {
  const auto d = mkv::visit_entry(dir_prefix, entry);
  switch (d.visit) {
    case mkv::Visit::record:
      require(entry.kind == mkv::ListingKind::file);
      require(!mkv::key_problem(d.path));
      require(d.path == std::string(dir_prefix) + entry.name);
      break;
    case mkv::Visit::descend: {
      require(entry.kind == mkv::ListingKind::directory);
      require(d.path.size() >= 2 && d.path.back() == '/');
      const std::string_view as_key(d.path.data(), d.path.size() - 1);
      require(!mkv::key_problem(as_key));
      const auto target = mkv::listing_target(mkv::Volume{"http://v", "v", "80", ""}, d.path);
      require(target.find("/../") == std::string::npos && target.find("/./") == std::string::npos);
      break;
    }
    case mkv::Visit::skip_reserved:
      require(dir_prefix.empty() && entry.name == mkv::reserved_segment);
      break;
    case mkv::Visit::skip_invalid:
      require(!d.reason.empty());
      break;
    case mkv::Visit::skip_other:
      require(entry.kind == mkv::ListingKind::other);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto entries = mkv::parse_autoindex(bytes);
  if (!entries) {
    require(mkv::message(entries.error()).starts_with("malformed volume listing: autoindex: "));
    return 0;
  }
  for (const auto& e : *entries) {
    require(!e.name.empty() && e.name != "." && e.name != "..");
    require(e.name.find('/') == std::string::npos);
    if (e.kind != mkv::ListingKind::file) require(e.size == 0);
    check_walk("", e);
    check_walk("a/", e);
    check_walk(std::string(1000, 'd') + "/", e);
  }
  return 0;
}
