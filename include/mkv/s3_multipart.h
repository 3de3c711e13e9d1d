// S3 multipart uploads as pure decisions: part numbers, upload IDs, the multipart ETag, and
// the check of CompleteMultipartUpload's part list against the parts uploaded, which yields the
// parts to concatenate into the one blob the key will hold.
//
// The rules (as S3 has them):
// - Parts are numbered 1 to 10000. Each uploaded part's ETag is the quoted hex MD5 of its bytes.
// - Complete lists the parts to keep, each with the ETag its upload answered (quoted or not):
//   at least one part, in strictly ascending order of number, each one uploaded and with that
//   ETag; every part but the last at least 5 MiB. Uploaded parts it does not list are dropped.
// - The object's ETag is the hex MD5 of the parts' binary MD5s one after another, then '-' and
//   the number of parts, in double quotes: "<md5 of md5s>-N". It is not the MD5 of the object.
//
// Where an upload lives (mkv's choice): in the index, under keys no S3 object or native key can
// have (a segment starting with '.'), so on the volumes under each one's `.mkv/` area:
// - the upload itself is an empty blob at `.mkv/uploads/<bucket>/<upload ID>` whose record's
//   meta holds the object key and the headers CreateMultipartUpload stored (upload_meta_of);
//   its record's time is when it was initiated;
// - each part is an ordinary blob at `.mkv/parts/<bucket>/<upload ID>/<5-digit number>`, placed
//   and replicated like any blob, its record giving the part's size, MD5 and time.
// An upload survives a restart of serve; rebalance and verify treat its blobs like any other.
#pragma once

#include "mkv/checksum.h"
#include "mkv/s3_error.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkv {

inline constexpr unsigned min_part_number = 1;
inline constexpr unsigned max_part_number = 10000;
// The least size of every part but the last (5 MiB).
inline constexpr std::uint64_t min_part_bytes = 5 * 1024 * 1024;
// The size of an upload ID: 32 lower-case hex digits, made from this many random bytes.
inline constexpr std::size_t upload_id_random_bytes = 16;

// Returns the part number of a partNumber query value, or invalid_argument unless it is a
// whole number from 1 to 10000.
[[nodiscard]] inline S3Result<unsigned> parse_part_number(std::string_view text) {
  unsigned number = 0;
  const bool digits =
      !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits) {
    for (const char c : text) {
      number = std::min(number * 10 + unsigned(c - '0'), max_part_number + 1);
    }
  }
  if (!digits || number < min_part_number || number > max_part_number) {
    return s3_error(s3errc::invalid_argument, "the part number must be a whole number from " +
                                                  std::to_string(min_part_number) + " to " +
                                                  std::to_string(max_part_number));
  }
  return number;
}

// Returns the upload ID made of random bytes (from a cryptographic source, so that an upload
// cannot be guessed): their 32 lower-case hex digits.
[[nodiscard]] inline std::string upload_id_from(
    std::span<const std::uint8_t, upload_id_random_bytes> random) {
  static constexpr std::string_view hex = "0123456789abcdef";
  std::string id;
  for (const std::uint8_t byte : random) {
    id += hex[byte >> 4];
    id += hex[byte & 15];
  }
  return id;
}

// Returns whether text is an upload ID as upload_id_from() makes them (32 lower-case hex
// digits). Any other text names no upload (NoSuchUpload), and never reaches a path.
[[nodiscard]] inline bool is_upload_id(std::string_view text) {
  return text.size() == 2 * upload_id_random_bytes &&
         text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Returns the ETag of a multipart object whose parts, in order, have these MD5s:
// "<hex MD5 of the concatenated binary MD5s>-<number of parts>", in double quotes.
[[nodiscard]] inline std::string multipart_etag(std::span<const Md5> part_md5s) {
  Md5Stream stream;
  for (const Md5& md5 : part_md5s) {
    stream.update({reinterpret_cast<const char*>(md5.data()), md5.size()});
  }
  return '"' + to_hex(stream.finish()) + '-' + std::to_string(part_md5s.size()) + '"';
}

// A part as Complete's request body lists it: its number and the ETag the client sends.
struct ListedPart {
  unsigned number = 0;
  std::string etag;
};

// A part as the index records it: its number, size and MD5.
struct UploadedPart {
  unsigned number = 0;
  std::uint64_t size = 0;
  Md5 md5{};

  friend bool operator==(const UploadedPart&, const UploadedPart&) = default;
};

// What Complete does: concatenate parts in this order into one blob of size bytes whose ETag
// is etag, then delete the parts it did not list (unlisted, part numbers ascending).
struct CompletePlan {
  std::vector<UploadedPart> parts;
  std::uint64_t size = 0;
  std::string etag;
  std::vector<unsigned> unlisted;

  friend bool operator==(const CompletePlan&, const CompletePlan&) = default;
};

// Returns whether etag, as a client sends it (with or without its double quotes, hex in any
// case), is the ETag of a part with this MD5.
[[nodiscard]] inline bool part_etag_matches(std::string_view etag, const Md5& md5) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  const std::string hex = to_hex(md5);
  return etag.size() == hex.size() &&
         std::equal(etag.begin(), etag.end(), hex.begin(), [](char sent, char digit) {
           return (sent >= 'A' && sent <= 'F' ? char(sent - 'A' + 'a') : sent) == digit;
         });
}

// Returns the plan of a Complete that lists listed for an upload whose recorded parts are
// uploaded (in any order), or the error that refuses it, checked in this order: malformed_xml
// if no part is listed; invalid_argument for a part number outside 1..10000;
// invalid_part_order unless the numbers strictly ascend; invalid_part for a part not uploaded
// or listed with another ETag; entity_too_small for a part under 5 MiB that is not the last.
[[nodiscard]] inline S3Result<CompletePlan> plan_complete(std::span<const ListedPart> listed,
                                                          std::span<const UploadedPart> uploaded) {
  if (listed.empty()) {
    return s3_error(s3errc::malformed_xml, "CompleteMultipartUpload lists no part");
  }
  for (std::size_t i = 0; i < listed.size(); ++i) {
    const unsigned number = listed[i].number;
    if (number < min_part_number || number > max_part_number) {
      return s3_error(s3errc::invalid_argument, "part number " + std::to_string(number) +
                                                    " is not from " +
                                                    std::to_string(min_part_number) + " to " +
                                                    std::to_string(max_part_number));
    }
    if (i > 0 && number <= listed[i - 1].number) {
      return s3_error(s3errc::invalid_part_order,
                      "part " + std::to_string(number) + " is listed after part " +
                          std::to_string(listed[i - 1].number) +
                          "; parts must be listed in ascending order, each once");
    }
  }
  std::vector<UploadedPart> recorded(uploaded.begin(), uploaded.end());
  std::sort(recorded.begin(), recorded.end(),
            [](const UploadedPart& a, const UploadedPart& b) { return a.number < b.number; });
  CompletePlan plan;
  std::vector<Md5> md5s;
  for (const ListedPart& part : listed) {
    const auto it =
        std::lower_bound(recorded.begin(), recorded.end(), part.number,
                         [](const UploadedPart& p, unsigned number) { return p.number < number; });
    if (it == recorded.end() || it->number != part.number) {
      return s3_error(s3errc::invalid_part,
                      "part " + std::to_string(part.number) + " was not uploaded");
    }
    if (!part_etag_matches(part.etag, it->md5)) {
      return s3_error(s3errc::invalid_part, "part " + std::to_string(part.number) +
                                                " was uploaded with the ETag " + etag_of(it->md5) +
                                                ", not " + part.etag);
    }
    plan.parts.push_back(*it);
    plan.size += it->size;
    md5s.push_back(it->md5);
  }
  for (std::size_t i = 0; i + 1 < plan.parts.size(); ++i) {
    if (plan.parts[i].size < min_part_bytes) {
      return s3_error(s3errc::entity_too_small,
                      "part " + std::to_string(plan.parts[i].number) + " is " +
                          std::to_string(plan.parts[i].size) +
                          " bytes; every part but the last must be at least " +
                          std::to_string(min_part_bytes) + " bytes (5 MiB)");
    }
  }
  plan.etag = multipart_etag(md5s);
  std::size_t next = 0;  // both lists ascend: walk them together
  for (const UploadedPart& part : recorded) {
    while (next < listed.size() && listed[next].number < part.number) ++next;
    if (next == listed.size() || listed[next].number != part.number) {
      plan.unlisted.push_back(part.number);
    }
  }
  return plan;
}

// The index prefixes of every upload and every part, in all buckets.
inline constexpr std::string_view uploads_root = ".mkv/uploads/";
inline constexpr std::string_view parts_root = ".mkv/parts/";

// Returns the index prefix of the uploads in bucket: ".mkv/uploads/<bucket>/".
[[nodiscard]] inline std::string uploads_prefix(std::string_view bucket) {
  return std::string(uploads_root) + std::string(bucket) + '/';
}

// Returns the index key of an upload: ".mkv/uploads/<bucket>/<id>".
[[nodiscard]] inline std::string upload_key(std::string_view bucket, std::string_view id) {
  return uploads_prefix(bucket) + std::string(id);
}

// Returns the index prefix of an upload's parts: ".mkv/parts/<bucket>/<id>/".
[[nodiscard]] inline std::string parts_prefix(std::string_view bucket, std::string_view id) {
  return std::string(parts_root) + std::string(bucket) + '/' + std::string(id) + '/';
}

// Returns the index key of part number of an upload: the parts prefix, then the number in five
// digits, so that the index's byte order is the parts' numeric order.
[[nodiscard]] inline std::string part_key(std::string_view bucket, std::string_view id,
                                          unsigned number) {
  std::string digits = std::to_string(number);
  return parts_prefix(bucket, id) + std::string(5 - std::min<std::size_t>(digits.size(), 5), '0') +
         digits;
}

// Returns the part number of an index key under an upload's parts prefix (the text after it),
// or nothing for a name part_key() does not make.
[[nodiscard]] inline std::optional<unsigned> part_number_of(std::string_view name) {
  if (name.size() != 5 || name.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  const unsigned number = unsigned(std::stoul(std::string(name)));
  if (number < min_part_number || number > max_part_number) return std::nullopt;
  return number;
}

// What an upload's record keeps besides its time: the key of the object it makes, and the
// stored headers (mkv/object_meta.h's text) the object will have.
struct UploadMeta {
  std::string key;
  std::string meta;

  friend bool operator==(const UploadMeta&, const UploadMeta&) = default;
};

// Returns the text an upload's record keeps (a JSON object).
[[nodiscard]] inline std::string encode_upload_meta(const UploadMeta& upload) {
  return boost::json::serialize(boost::json::object{{"key", upload.key}, {"meta", upload.meta}});
}

// Returns the upload encode_upload_meta() wrote into text, or nothing for other text.
[[nodiscard]] inline std::optional<UploadMeta> decode_upload_meta(std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto* key = value.get_object().if_contains("key");
  const auto* meta = value.get_object().if_contains("meta");
  if (!key || !key->is_string() || !meta || !meta->is_string()) return std::nullopt;
  return UploadMeta{std::string(key->get_string()), std::string(meta->get_string())};
}

// Returns whether an upload (or a part left by one) written at modified is older than expiry
// at now (all Unix seconds): the upload expiry sweep removes it.
[[nodiscard]] inline bool upload_expired(std::int64_t modified, std::int64_t now,
                                         std::int64_t expiry) {
  return modified <= now - expiry;
}

// Returns how often serve sweeps for expired uploads: a tenth of the expiry, from 1 second to
// 10 minutes.
[[nodiscard]] inline std::int64_t upload_sweep_seconds(std::int64_t expiry) {
  return std::clamp<std::int64_t>(expiry / 10, 1, 600);
}

// Where a part's index key (under parts_root) says it belongs: its bucket and upload ID.
struct PartOwner {
  std::string bucket;
  std::string id;

  friend bool operator==(const PartOwner&, const PartOwner&) = default;
};

// Returns the bucket and upload of a key under parts_root ("<root><bucket>/<id>/<number>"), or
// nothing for a key part_key() does not make.
[[nodiscard]] inline std::optional<PartOwner> part_owner_of(std::string_view key) {
  if (!key.starts_with(parts_root)) return std::nullopt;
  key.remove_prefix(parts_root.size());
  const auto first = key.find('/');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  const auto second = key.find('/', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const std::string_view id = key.substr(first + 1, second - first - 1);
  if (!is_upload_id(id) || !part_number_of(key.substr(second + 1))) return std::nullopt;
  return PartOwner{std::string(key.substr(0, first)), std::string(id)};
}

// The paging of ListParts: the most parts a page lists (S3's limit), and the page's parts
// after a marker.
inline constexpr std::size_t max_listed_parts = 1000;

// Returns max-parts (or max-uploads) as a page size: absent, 1000; a number over 1000 is 1000;
// anything but a whole number is InvalidArgument.
[[nodiscard]] inline S3Result<std::size_t> parse_page_size(std::optional<std::string_view> text,
                                                           std::string_view name) {
  if (!text) return max_listed_parts;
  const bool digits =
      !text->empty() && text->find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits) {
    return s3_error(s3errc::invalid_argument, std::string(name) + " must be a whole number");
  }
  std::size_t n = 0;
  for (const char c : *text) n = std::min<std::size_t>(n * 10 + std::size_t(c - '0'), 100000);
  return std::min(n, max_listed_parts);
}

// Returns the part-number-marker of a ListParts (parts after it are listed): absent, 0.
[[nodiscard]] inline S3Result<unsigned> parse_part_marker(std::optional<std::string_view> text) {
  if (!text || text->empty()) return 0u;
  if (*text == "0") return 0u;
  return parse_part_number(*text);
}

// An unfinished upload as ListMultipartUploads lists it.
struct ListedUpload {
  std::string key;
  std::string upload_id;
  std::int64_t initiated = 0;  // Unix seconds

  friend bool operator==(const ListedUpload&, const ListedUpload&) = default;
};

// A page of ListMultipartUploads: its uploads, and whether more follow the last of them.
struct UploadsPage {
  std::vector<ListedUpload> uploads;
  bool truncated = false;

  friend bool operator==(const UploadsPage&, const UploadsPage&) = default;
};

// Returns the page ListMultipartUploads answers from a bucket's uploads (in any order): those
// whose key starts with prefix, by key then upload ID, after the markers (key_marker alone: the
// keys after it; with id_marker too: also that key's uploads with a greater ID), at most max.
[[nodiscard]] inline UploadsPage page_uploads(std::vector<ListedUpload> uploads,
                                              std::string_view prefix, std::string_view key_marker,
                                              std::string_view id_marker, std::size_t max) {
  std::sort(uploads.begin(), uploads.end(), [](const ListedUpload& a, const ListedUpload& b) {
    return a.key != b.key ? a.key < b.key : a.upload_id < b.upload_id;
  });
  UploadsPage page;
  for (auto& upload : uploads) {
    const bool after =
        key_marker.empty() || upload.key > key_marker ||
        (upload.key == key_marker && !id_marker.empty() && upload.upload_id > id_marker);
    if (!upload.key.starts_with(prefix) || !after) continue;
    if (page.uploads.size() == max) {
      page.truncated = true;
      break;
    }
    page.uploads.push_back(std::move(upload));
  }
  return page;
}

}  // namespace mkv
