// The S3 XML documents: their exact text (escaping included), and the request bodies read back,
// including what is refused as MalformedXML and why.
#include "s3/xml.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using mkv::s3errc;

namespace {
constexpr const char* decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
constexpr const char* ns = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
}  // namespace

TEST_CASE("xml_time writes S3's ISO 8601 form") {
  CHECK(mkv::xml_time(0) == "1970-01-01T00:00:00.000Z");
  CHECK(mkv::xml_time(1796094000) == "2026-12-01T03:00:00.000Z");
  CHECK(mkv::xml_time(1709251199) == "2024-02-29T23:59:59.000Z");
}

TEST_CASE("the error document escapes what it quotes") {
  const auto text = mkv::xml_error(mkv::s3_error(s3errc::no_such_key), "/b/a<&>\"'.txt", "r1");
  CHECK(text == std::string(decl) +
                    "<Error><Code>NoSuchKey</Code><Message>The specified key does not "
                    "exist</Message><Resource>/b/a&lt;&amp;&gt;\"'.txt</Resource>"
                    "<RequestId>r1</RequestId></Error>");
  // A control byte cannot stand in XML 1.0 text: it goes out as a character reference (clients
  // that list such keys ask for encoding-type=url, as S3 advises).
  CHECK(mkv::xml_error(mkv::s3_error(s3errc::no_such_key), "/b/a\x01", "r")
            .find("<Resource>/b/a&#01;</Resource>") != std::string::npos);
}

TEST_CASE("ListBuckets, location, multipart and copy results") {
  const std::vector<mkv::BucketEntry> buckets = {{"alpha", 0}, {"b&c", 1796094000}};
  CHECK(mkv::xml_list_buckets(buckets, "AKID") ==
        std::string(decl) + "<ListAllMyBucketsResult" + ns +
            "><Owner><ID>AKID</ID><DisplayName>AKID</DisplayName></Owner><Buckets>"
            "<Bucket><Name>alpha</Name><CreationDate>1970-01-01T00:00:00.000Z</CreationDate>"
            "</Bucket><Bucket><Name>b&amp;c</Name><CreationDate>2026-12-01T03:00:00.000Z"
            "</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>");
  CHECK(mkv::xml_bucket_location("us-east-1") ==
        std::string(decl) + "<LocationConstraint" + ns + "/>");
  CHECK(mkv::xml_bucket_location("eu-west-2") ==
        std::string(decl) + "<LocationConstraint" + ns + ">eu-west-2</LocationConstraint>");
  CHECK(mkv::xml_initiate_upload("b", "k<1>", "0123") ==
        std::string(decl) + "<InitiateMultipartUploadResult" + ns +
            "><Bucket>b</Bucket><Key>k&lt;1&gt;</Key><UploadId>0123</UploadId>"
            "</InitiateMultipartUploadResult>");
  CHECK(mkv::xml_complete_upload("http://h/b/k", "b", "k", "\"abc-2\"") ==
        std::string(decl) + "<CompleteMultipartUploadResult" + ns +
            "><Location>http://h/b/k</Location><Bucket>b</Bucket><Key>k</Key>"
            "<ETag>\"abc-2\"</ETag></CompleteMultipartUploadResult>");
  CHECK(mkv::xml_copy_object("\"e\"", 0) ==
        std::string(decl) + "<CopyObjectResult" + ns +
            "><LastModified>1970-01-01T00:00:00.000Z</LastModified><ETag>\"e\"</ETag>"
            "</CopyObjectResult>");
}

TEST_CASE("ListParts and ListMultipartUploads results, and a document after its declaration") {
  mkv::ListPartsPage parts;
  parts.bucket = "b";
  parts.key = "k&";
  parts.upload_id = "u1";
  parts.owner = "AKID";
  parts.marker = 2;
  parts.max_parts = 1;
  parts.parts = {{3, 5, "\"e3\"", 0}};
  parts.truncated = true;
  const std::string who = "<ID>AKID</ID><DisplayName>AKID</DisplayName>";
  CHECK(mkv::xml_list_parts(parts) ==
        std::string(decl) + "<ListPartsResult" + ns +
            "><Bucket>b</Bucket><Key>k&amp;</Key><UploadId>u1</UploadId><Initiator>" + who +
            "</Initiator><Owner>" + who +
            "</Owner><StorageClass>STANDARD</StorageClass><PartNumberMarker>2</PartNumberMarker>"
            "<NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>1</MaxParts>"
            "<IsTruncated>true</IsTruncated><Part><PartNumber>3</PartNumber><LastModified>"
            "1970-01-01T00:00:00.000Z</LastModified><ETag>\"e3\"</ETag><Size>5</Size></Part>"
            "</ListPartsResult>");
  mkv::ListUploadsPage uploads;
  uploads.bucket = "b";
  uploads.owner = "AKID";
  uploads.prefix = "p/";
  uploads.max_uploads = 1000;
  uploads.uploads = {{"p/<x>", "u2", 1796094000}};
  CHECK(mkv::xml_list_uploads(uploads) ==
        std::string(decl) + "<ListMultipartUploadsResult" + ns +
            "><Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>p/"
            "</Prefix>"
            "<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated><Upload><Key>p/&lt;x&gt;"
            "</Key><UploadId>u2</UploadId><Initiator>" +
            who + "</Initiator><Owner>" + who +
            "</Owner><StorageClass>STANDARD</StorageClass><Initiated>2026-12-01T03:00:00.000Z"
            "</Initiated></Upload></ListMultipartUploadsResult>");
  uploads.truncated = true;
  CHECK(mkv::xml_list_uploads(uploads).find(
            "<NextKeyMarker>p/&lt;x&gt;</NextKeyMarker><NextUploadIdMarker>u2</"
            "NextUploadIdMarker>") != std::string::npos);
  // What a CompleteMultipartUpload sends after the declaration it sent first.
  const std::string done = mkv::xml_complete_upload("l", "b", "k", "e");
  CHECK(std::string(decl) + std::string(mkv::after_declaration(done)) == done);
  CHECK(mkv::after_declaration(done).starts_with("<CompleteMultipartUploadResult"));
  CHECK(mkv::after_declaration("<a/>") == "<a/>");
}

TEST_CASE("DeleteResult lists deletions unless quiet, and always the failures") {
  const std::vector<mkv::DeleteOutcome> outcomes = {
      {"a", std::nullopt}, {"b", mkv::s3_error(s3errc::internal_error, "volume down")}};
  const std::string error =
      "<Error><Key>b</Key><Code>InternalError</Code><Message>volume down</Message></Error>";
  CHECK(mkv::xml_delete_result(outcomes, false) == std::string(decl) + "<DeleteResult" + ns +
                                                       "><Deleted><Key>a</Key></Deleted>" + error +
                                                       "</DeleteResult>");
  CHECK(mkv::xml_delete_result(outcomes, true) ==
        std::string(decl) + "<DeleteResult" + ns + ">" + error + "</DeleteResult>");
}

TEST_CASE("a DeleteObjects body is read with its keys exactly as sent") {
  const auto request = mkv::parse_delete_request(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
      "  <Object><Key>a&amp;b</Key></Object>\n"
      "  <Object><Key> spaced\r\nkey </Key><VersionId>x</VersionId></Object>\n"
      "  <Object><Key>\xC3\xBC"
      "ber</Key></Object>\n"
      "  <Object><Key> </Key></Object>\n"
      "  <Quiet>true</Quiet>\n"
      "</Delete>");
  REQUIRE(request.has_value());
  CHECK(request->quiet);
  CHECK(request->keys == std::vector<std::string>{"a&b", " spaced\r\nkey ",
                                                  "\xC3\xBC"
                                                  "ber",
                                                  " "});
}

TEST_CASE("CompleteMultipartUpload and CreateBucket bodies") {
  const auto parts = mkv::parse_complete_request(
      "<CompleteMultipartUpload><Part><ETag>\"e1\"</ETag><PartNumber>1</PartNumber></Part>"
      "<Part><PartNumber>3</PartNumber><ETag>e3</ETag><ChecksumCRC32>x</ChecksumCRC32></Part>"
      "</CompleteMultipartUpload>");
  REQUIRE(parts.has_value());
  REQUIRE(parts->size() == 2);
  CHECK((*parts)[0].number == 1);
  CHECK((*parts)[0].etag == "\"e1\"");
  CHECK((*parts)[1].number == 3);
  CHECK((*parts)[1].etag == "e3");

  CHECK(mkv::parse_create_bucket("").value() == "");
  CHECK(mkv::parse_create_bucket(" \n").value() == "");
  CHECK(mkv::parse_create_bucket("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/"
                                 "doc/2006-03-01/\"><LocationConstraint>eu-west-2"
                                 "</LocationConstraint></CreateBucketConfiguration>")
            .value() == "eu-west-2");
}

TEST_CASE("bodies that are not the document they should be are MalformedXML, saying why") {
  const struct {
    const char* what;
    int which;  // 0 delete, 1 complete, 2 create bucket
    std::string body;
    const char* says;
  } rows[] = {
      {"not XML", 0, "hello", "not well-formed"},
      {"unclosed", 0, "<Delete><Object><Key>a</Key></Object>", "not well-formed"},
      {"another root", 0, "<Remove><Object><Key>a</Key></Object></Remove>", "not a <Delete>"},
      {"no objects", 0, "<Delete><Quiet>true</Quiet></Delete>", "names no <Object>"},
      {"an object without a key", 0, "<Delete><Object></Object></Delete>", "has no <Key>"},
      {"an empty key", 0, "<Delete><Object><Key></Key></Object></Delete>", "has no <Key>"},
      {"Quiet not boolean", 0, "<Delete><Object><Key>a</Key></Object><Quiet>yes</Quiet></Delete>",
       "true or false"},
      {"a stranger", 0, "<Delete><Thing/></Delete>", "unexpected element <Thing>"},
      {"no parts", 1, "<CompleteMultipartUpload></CompleteMultipartUpload>", "names no <Part>"},
      {"a part without an ETag", 1,
       "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
       "</CompleteMultipartUpload>",
       "needs <PartNumber> and <ETag>"},
      {"part number 0", 1,
       "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>e</ETag></Part>"
       "</CompleteMultipartUpload>",
       "from 1 to 10000"},
      {"part number 10001", 1,
       "<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>e</ETag></Part>"
       "</CompleteMultipartUpload>",
       "from 1 to 10000"},
      {"part number -1", 1,
       "<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>e</ETag></Part>"
       "</CompleteMultipartUpload>",
       "from 1 to 10000"},
      {"create: another root", 2, "<Bucket/>", "not a <CreateBucketConfiguration>"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    std::optional<mkv::S3Error> error;
    if (r.which == 0) error = mkv::parse_delete_request(r.body).error();
    if (r.which == 1) error = mkv::parse_complete_request(r.body).error();
    if (r.which == 2) error = mkv::parse_create_bucket(r.body).error();
    REQUIRE(error.has_value());
    CHECK(error->code == s3errc::malformed_xml);
    CAPTURE(error->message);
    CHECK(error->message.find(r.says) != std::string::npos);
  }
  // 1001 objects are one too many.
  std::string many = "<Delete>";
  for (int i = 0; i < 1001; ++i) many += "<Object><Key>k" + std::to_string(i) + "</Key></Object>";
  many += "</Delete>";
  CHECK(mkv::parse_delete_request(many).error().message.find("more than 1000") !=
        std::string::npos);
}
