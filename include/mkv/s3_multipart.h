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
#pragma once

#include "mkv/checksum.h"
#include "mkv/s3_error.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
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

}  // namespace mkv
