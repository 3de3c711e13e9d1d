// The SigV4 signing keys of `serve --s3-credentials`: derived once per access key, day and region
// and then kept, so a request costs the HMACs of its own string to sign, not also the four of a
// key derivation. Shared by the S3 connections; the lock is held only around the map.
#pragma once

#include "mkv/s3_credentials.h"
#include "mkv/sigv4.h"

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace mkv {

class SigningKeys {
 public:
  // Keys kept at most: a day's keys of every access key in a few regions. Past it the cache
  // starts over (yesterday's keys go with it).
  static constexpr std::size_t max_cached = 4096;

  explicit SigningKeys(S3Credentials credentials) : credentials_(std::move(credentials)) {}

  // Returns the signing key of credential, or nothing when its access key is not configured.
  std::optional<SigningKey> key_for(const Credential& credential) {
    const auto secret = credentials_.find(credential.access_key);
    if (secret == credentials_.end()) return std::nullopt;
    const std::string name = credential.access_key + '/' + credential.scope();
    {
      std::lock_guard lock(mutex_);
      if (const auto it = cache_.find(name); it != cache_.end()) return it->second;
    }
    const SigningKey key =
        derive_signing_key(secret->second, credential.date, credential.region, credential.service);
    std::lock_guard lock(mutex_);
    if (cache_.size() >= max_cached) cache_.clear();
    cache_.emplace(name, key);
    return key;
  }

  // Returns how many keys are kept.
  std::size_t cached() {
    std::lock_guard lock(mutex_);
    return cache_.size();
  }

 private:
  const S3Credentials credentials_;
  std::mutex mutex_;
  std::map<std::string, SigningKey, std::less<>> cache_;
};

}  // namespace mkv
