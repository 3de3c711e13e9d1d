// libFuzzer target: the S3 request bodies mkv reads (server/s3/xml.cpp, built with it: see the
// fuzz-build line below). Any bytes as a DeleteObjects, CompleteMultipartUpload or CreateBucket
// body: each parser refuses them as MalformedXML with a message, or returns what the rules allow
// (1 to 1000 non-empty keys; 1 or more parts numbered 1..10000); the keys, written into a
// DeleteResult document, parse back from it unchanged.
// fuzz-build: -Iserver server/s3/xml.cpp -lpugixml
#include "s3/xml.h"

#include <pugixml.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  if (const auto request = mkv::parse_delete_request(body)) {
    require(!request->keys.empty() && request->keys.size() <= mkv::max_delete_keys);
    std::vector<mkv::DeleteOutcome> outcomes;
    for (const auto& key : request->keys) {
      require(!key.empty());
      outcomes.push_back({key, std::nullopt});
    }
    // Written into a DeleteResult and read back, the keys survive escaping unchanged.
    const std::string result = mkv::xml_delete_result(outcomes, false);
    pugi::xml_document doc;
    require(doc.load_buffer(result.data(), result.size(),
                            (pugi::parse_default & ~pugi::parse_eol) | pugi::parse_ws_pcdata_single,
                            pugi::encoding_utf8));
    std::vector<std::string> again;
    for (const auto& deleted : doc.document_element().children("Deleted")) {
      again.emplace_back(deleted.child("Key").text().get());
    }
    require(again == request->keys);
  } else {
    require(request.error().code == mkv::s3errc::malformed_xml && !request.error().message.empty());
  }

  if (const auto parts = mkv::parse_complete_request(body)) {
    require(!parts->empty());
    for (const auto& part : *parts) require(part.number >= 1 && part.number <= 10000);
  } else {
    require(parts.error().code == mkv::s3errc::malformed_xml && !parts.error().message.empty());
  }

  if (const auto region = mkv::parse_create_bucket(body); !region) {
    require(region.error().code == mkv::s3errc::malformed_xml);
  }
  return 0;
}
