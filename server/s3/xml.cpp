// The XML of the S3 API (see xml.h).
#include "s3/xml.h"

#include <pugixml.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace mkv {

namespace {

constexpr const char* s3_namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// Collects what pugixml writes into a string.
struct StringWriter : pugi::xml_writer {
  std::string out;
  void write(const void* data, std::size_t size) override {
    out.append(static_cast<const char*>(data), size);
  }
};

// Returns a document with the XML declaration and a root element named root (in S3's namespace
// when namespaced), for the caller to fill.
pugi::xml_node start(pugi::xml_document& doc, const char* root, bool namespaced = true) {
  auto declaration = doc.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  auto node = doc.append_child(root);
  if (namespaced) node.append_attribute("xmlns") = s3_namespace;
  return node;
}

// Adds <name>text</name> under parent.
void add(pugi::xml_node parent, const char* name, std::string_view text) {
  parent.append_child(name).text().set(std::string(text).c_str());
}

// Adds <role><ID>id</ID><DisplayName>id</DisplayName></role> under parent (an Owner or
// Initiator: mkv names a user by its access key).
void add_user(pugi::xml_node parent, const char* role, std::string_view id) {
  auto who = parent.append_child(role);
  add(who, "ID", id);
  add(who, "DisplayName", id);
}

std::string finish(const pugi::xml_document& doc) {
  StringWriter writer;
  doc.save(writer, "", pugi::format_raw);
  return std::move(writer.out);
}

// Returns name without a namespace prefix ("s3:Key" -> "Key").
std::string_view local_name(const pugi::xml_node& node) {
  std::string_view name = node.name();
  const auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

S3Error malformed(std::string why) {
  return s3_error(s3errc::malformed_xml, std::move(why));
}

// Parses xml into doc, keeping text exactly as sent (no end-of-line normalisation, and text of
// only spaces kept when it is all an element holds: a key's bytes are the key), or returns
// MalformedXML saying where it broke.
std::optional<S3Error> load(pugi::xml_document& doc, std::string_view xml) {
  const auto parsed = doc.load_buffer(
      xml.data(), xml.size(),
      (pugi::parse_default & ~pugi::parse_eol) | pugi::parse_ws_pcdata_single, pugi::encoding_utf8);
  if (!parsed) {
    return malformed("the XML is not well-formed: " + std::string(parsed.description()) +
                     " at byte " + std::to_string(parsed.offset));
  }
  return std::nullopt;
}

// Returns the root element of doc if it is named root, or nothing.
std::optional<pugi::xml_node> root_named(const pugi::xml_document& doc, std::string_view root) {
  const auto node = doc.document_element();
  if (!node || local_name(node) != root) return std::nullopt;
  return node;
}

}  // namespace

std::string xml_time(std::int64_t unix_seconds) {
  using namespace std::chrono;
  const sys_seconds time{seconds{unix_seconds}};
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.000Z", int(date.year()),
                unsigned(date.month()), unsigned(date.day()), int(clock.hours().count()),
                int(clock.minutes().count()), int(clock.seconds().count()));
  return text;
}

std::string xml_error(const S3Error& error, std::string_view resource,
                      std::string_view request_id) {
  pugi::xml_document doc;
  auto root = start(doc, "Error", false);
  add(root, "Code", s3_code_name(error.code));
  add(root, "Message", error.message);
  add(root, "Resource", resource);
  add(root, "RequestId", request_id);
  return finish(doc);
}

std::string xml_list_buckets(std::span<const BucketEntry> buckets, std::string_view owner) {
  pugi::xml_document doc;
  auto root = start(doc, "ListAllMyBucketsResult");
  add_user(root, "Owner", owner);
  auto list = root.append_child("Buckets");
  for (const auto& bucket : buckets) {
    auto node = list.append_child("Bucket");
    add(node, "Name", bucket.name);
    add(node, "CreationDate", xml_time(bucket.created));
  }
  return finish(doc);
}

std::string xml_list_objects(const ListObjectsRequest& request, const ListObjectsPage& page,
                             std::string_view bucket) {
  pugi::xml_document doc;
  auto root = start(doc, "ListBucketResult");
  const bool v2 = request.version == ListVersion::v2;
  const auto text = [&](std::string_view value) { return listing_text(request, value); };
  add(root, "Name", bucket);
  add(root, "Prefix", text(request.prefix));
  if (!v2) add(root, "Marker", text(request.marker));
  add(root, "MaxKeys", std::to_string(request.max_keys));
  if (v2) add(root, "KeyCount", std::to_string(page.key_count()));
  if (!request.delimiter.empty()) add(root, "Delimiter", text(request.delimiter));
  if (request.url_encoding) add(root, "EncodingType", "url");
  add(root, "IsTruncated", page.is_truncated ? "true" : "false");
  if (v2) {
    if (!request.continuation_token.empty()) {
      add(root, "ContinuationToken", request.continuation_token);
    }
    if (page.is_truncated) add(root, "NextContinuationToken", page.next_continuation_token);
    if (!request.start_after.empty()) add(root, "StartAfter", text(request.start_after));
  } else if (page.is_truncated) {
    add(root, "NextMarker", text(page.next_marker));
  }
  for (const auto& object : page.contents) {
    auto node = root.append_child("Contents");
    add(node, "Key", text(object.key));
    add(node, "LastModified", xml_time(object.modified));
    if (!object.etag.empty()) add(node, "ETag", object.etag);
    add(node, "Size", std::to_string(object.size));
    add(node, "StorageClass", "STANDARD");
  }
  for (const auto& prefix : page.common_prefixes) {
    add(root.append_child("CommonPrefixes"), "Prefix", text(prefix));
  }
  return finish(doc);
}

std::string xml_bucket_location(std::string_view region) {
  pugi::xml_document doc;
  auto root = start(doc, "LocationConstraint");
  // us-east-1 is written as an empty constraint, as S3 does.
  if (region != "us-east-1") root.text().set(std::string(region).c_str());
  return finish(doc);
}

std::string xml_initiate_upload(std::string_view bucket, std::string_view key,
                                std::string_view upload_id) {
  pugi::xml_document doc;
  auto root = start(doc, "InitiateMultipartUploadResult");
  add(root, "Bucket", bucket);
  add(root, "Key", key);
  add(root, "UploadId", upload_id);
  return finish(doc);
}

std::string xml_complete_upload(std::string_view location, std::string_view bucket,
                                std::string_view key, std::string_view etag) {
  pugi::xml_document doc;
  auto root = start(doc, "CompleteMultipartUploadResult");
  add(root, "Location", location);
  add(root, "Bucket", bucket);
  add(root, "Key", key);
  add(root, "ETag", etag);
  return finish(doc);
}

std::string xml_list_parts(const ListPartsPage& page) {
  pugi::xml_document doc;
  auto root = start(doc, "ListPartsResult");
  add(root, "Bucket", page.bucket);
  add(root, "Key", page.key);
  add(root, "UploadId", page.upload_id);
  add_user(root, "Initiator", page.owner);
  add_user(root, "Owner", page.owner);
  add(root, "StorageClass", "STANDARD");
  add(root, "PartNumberMarker", std::to_string(page.marker));
  if (!page.parts.empty()) {
    add(root, "NextPartNumberMarker", std::to_string(page.parts.back().number));
  }
  add(root, "MaxParts", std::to_string(page.max_parts));
  add(root, "IsTruncated", page.truncated ? "true" : "false");
  for (const auto& part : page.parts) {
    auto node = root.append_child("Part");
    add(node, "PartNumber", std::to_string(part.number));
    add(node, "LastModified", xml_time(part.modified));
    add(node, "ETag", part.etag);
    add(node, "Size", std::to_string(part.size));
  }
  return finish(doc);
}

std::string xml_list_uploads(const ListUploadsPage& page) {
  pugi::xml_document doc;
  auto root = start(doc, "ListMultipartUploadsResult");
  add(root, "Bucket", page.bucket);
  add(root, "KeyMarker", page.key_marker);
  add(root, "UploadIdMarker", page.upload_id_marker);
  if (page.truncated && !page.uploads.empty()) {
    add(root, "NextKeyMarker", page.uploads.back().key);
    add(root, "NextUploadIdMarker", page.uploads.back().upload_id);
  }
  if (!page.prefix.empty()) add(root, "Prefix", page.prefix);
  add(root, "MaxUploads", std::to_string(page.max_uploads));
  add(root, "IsTruncated", page.truncated ? "true" : "false");
  for (const auto& upload : page.uploads) {
    auto node = root.append_child("Upload");
    add(node, "Key", upload.key);
    add(node, "UploadId", upload.upload_id);
    add_user(node, "Initiator", page.owner);
    add_user(node, "Owner", page.owner);
    add(node, "StorageClass", "STANDARD");
    add(node, "Initiated", xml_time(upload.initiated));
  }
  return finish(doc);
}

std::string_view after_declaration(std::string_view document) {
  if (document.starts_with(xml_declaration)) document.remove_prefix(xml_declaration.size());
  return document;
}

std::string xml_copy_object(std::string_view etag, std::int64_t last_modified) {
  pugi::xml_document doc;
  auto root = start(doc, "CopyObjectResult");
  add(root, "LastModified", xml_time(last_modified));
  add(root, "ETag", etag);
  return finish(doc);
}

std::string xml_delete_result(std::span<const DeleteOutcome> outcomes, bool quiet) {
  pugi::xml_document doc;
  auto root = start(doc, "DeleteResult");
  for (const auto& outcome : outcomes) {
    if (!outcome.error) {
      if (!quiet) add(root.append_child("Deleted"), "Key", outcome.key);
      continue;
    }
    auto node = root.append_child("Error");
    add(node, "Key", outcome.key);
    add(node, "Code", s3_code_name(outcome.error->code));
    add(node, "Message", outcome.error->message);
  }
  return finish(doc);
}

S3Result<DeleteRequest> parse_delete_request(std::string_view xml) {
  pugi::xml_document doc;
  if (auto error = load(doc, xml)) return *error;
  const auto root = root_named(doc, "Delete");
  if (!root) return malformed("the body is not a <Delete> document");
  DeleteRequest request;
  for (const auto& child : root->children()) {
    if (child.type() != pugi::node_element) continue;
    const auto name = local_name(child);
    if (name == "Quiet") {
      const std::string_view value = child.text().get();
      if (value != "true" && value != "false") {
        return malformed("<Quiet> must be true or false");
      }
      request.quiet = value == "true";
    } else if (name == "Object") {
      std::optional<std::string> key;
      for (const auto& field : child.children()) {
        if (field.type() == pugi::node_element && local_name(field) == "Key") {
          key = field.text().get();
        }
      }
      if (!key || key->empty()) return malformed("an <Object> has no <Key>");
      request.keys.push_back(std::move(*key));
    } else {
      return malformed("unexpected element <" + std::string(name) + "> in <Delete>");
    }
  }
  if (request.keys.empty()) return malformed("<Delete> names no <Object>");
  if (request.keys.size() > max_delete_keys) {
    return malformed("<Delete> names more than 1000 objects");
  }
  return request;
}

S3Result<std::vector<CompletePart>> parse_complete_request(std::string_view xml) {
  pugi::xml_document doc;
  if (auto error = load(doc, xml)) return *error;
  const auto root = root_named(doc, "CompleteMultipartUpload");
  if (!root) return malformed("the body is not a <CompleteMultipartUpload> document");
  std::vector<CompletePart> parts;
  for (const auto& child : root->children()) {
    if (child.type() != pugi::node_element) continue;
    if (local_name(child) != "Part") {
      return malformed("unexpected element <" + std::string(local_name(child)) +
                       "> in <CompleteMultipartUpload>");
    }
    std::optional<std::string> number, etag;
    for (const auto& field : child.children()) {
      if (field.type() != pugi::node_element) continue;
      if (local_name(field) == "PartNumber") number = field.text().get();
      if (local_name(field) == "ETag") etag = field.text().get();
    }
    if (!number || !etag) return malformed("a <Part> needs <PartNumber> and <ETag>");
    const bool digits = !number->empty() && number->size() <= 5 &&
                        number->find_first_not_of("0123456789") == std::string::npos;
    const unsigned value = digits ? static_cast<unsigned>(std::stoul(*number)) : 0;
    if (value < 1 || value > 10000) {
      return malformed("<PartNumber> '" + *number + "' is not a number from 1 to 10000");
    }
    parts.push_back({value, std::move(*etag)});
  }
  if (parts.empty()) return malformed("<CompleteMultipartUpload> names no <Part>");
  return parts;
}

S3Result<std::string> parse_create_bucket(std::string_view xml) {
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::string();
  pugi::xml_document doc;
  if (auto error = load(doc, xml)) return *error;
  const auto root = root_named(doc, "CreateBucketConfiguration");
  if (!root) return malformed("the body is not a <CreateBucketConfiguration> document");
  for (const auto& child : root->children()) {
    if (child.type() == pugi::node_element && local_name(child) == "LocationConstraint") {
      return std::string(child.text().get());
    }
  }
  return std::string();
}

}  // namespace mkv
