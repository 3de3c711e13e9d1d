// Replies of the S3 API: the one place an S3Error becomes an HTTP response (status and <Error>
// document), the one place a native mkv Error becomes an S3Error, and XML replies.
#pragma once

#include "http/reply.h"

#include "mkv/error.h"
#include "mkv/s3_error.h"

#include <string>
#include <string_view>

namespace mkv {

// Returns the S3 error a native error is answered with on the S3 API.
S3Error s3_error_of(const Error& error);

// Returns the reply for error on the request of resource (its path): the status, and the
// <Error> document as its body (frame() leaves it out of a HEAD's reply).
Reply s3_error_reply(const S3Error& error, std::string_view resource, std::string_view request_id);

// Returns a 200 whose body is the XML document xml.
Reply xml_reply(std::string xml);

}  // namespace mkv
