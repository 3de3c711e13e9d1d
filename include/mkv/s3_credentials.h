// The S3 credentials of `serve --s3-credentials FILE`: one "ACCESS_KEY_ID SECRET_ACCESS_KEY" per
// line; blank lines and lines starting with '#' are skipped. Parsing is strict, so that a typo
// is refused at start-up with its line number instead of surfacing later as
// SignatureDoesNotMatch.
#pragma once

#include "mkv/s3_error.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace mkv {

// Access key ID -> secret access key.
using S3Credentials = std::map<std::string, std::string, std::less<>>;

// Access key IDs: 3 to 128 of [A-Za-z0-9._-] (AWS's are 20 upper-case letters and digits).
inline constexpr std::size_t min_access_key_bytes = 3;
inline constexpr std::size_t max_access_key_bytes = 128;
// Secrets: 8 to 256 printable ASCII characters other than space (AWS's are 40).
inline constexpr std::size_t min_secret_bytes = 8;
inline constexpr std::size_t max_secret_bytes = 256;

// Returns the credentials text holds, or invalid_argument naming the first bad line and what is
// wrong with it: not two fields, a malformed access key or secret, or an access key given twice.
// A file with no credentials at all is refused too: an S3 port nobody can use is a mistake.
[[nodiscard]] inline S3Result<S3Credentials> parse_s3_credentials(std::string_view text) {
  S3Credentials credentials;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;

    const auto refuse = [&](std::string why) {
      return s3_error(s3errc::invalid_argument,
                      "credentials line " + std::to_string(number) + ": " + why);
    };
    const auto gap = std::find_if(line.begin(), line.end(), is_space) - line.begin();
    const std::string_view key = line.substr(0, gap);
    std::string_view secret = line.substr(std::min<std::size_t>(gap, line.size()));
    while (!secret.empty() && is_space(secret.front())) secret.remove_prefix(1);
    if (secret.empty() || std::any_of(secret.begin(), secret.end(), is_space)) {
      return refuse("expected ACCESS_KEY_ID SECRET_ACCESS_KEY");
    }
    const bool key_ok = key.size() >= min_access_key_bytes && key.size() <= max_access_key_bytes &&
                        std::all_of(key.begin(), key.end(), [](char c) {
                          return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                        });
    if (!key_ok) return refuse("the access key ID must be 3 to 128 of A-Z a-z 0-9 . _ -");
    const bool secret_ok =
        secret.size() >= min_secret_bytes && secret.size() <= max_secret_bytes &&
        std::all_of(secret.begin(), secret.end(), [](char c) { return c > ' ' && c < 127; });
    if (!secret_ok) {
      return refuse("the secret must be 8 to 256 printable ASCII characters without spaces");
    }
    if (!credentials.emplace(std::string(key), std::string(secret)).second) {
      return refuse("the access key ID " + std::string(key) + " is given twice");
    }
  }
  if (credentials.empty()) {
    return s3_error(s3errc::invalid_argument, "the credentials file holds no credentials");
  }
  return credentials;
}

}  // namespace mkv
