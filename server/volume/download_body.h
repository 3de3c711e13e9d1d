// A started Download as the body of a PUT: a copy made volume to volume through mkv (S3
// CopyObject), never whole in memory.
#pragma once

#include "http/body_source.h"
#include "volume/download.h"

namespace mkv {

class DownloadBody final : public BodySource {
 public:
  // download must have started (its status read) and outlive this body.
  explicit DownloadBody(Download& download) : download_(download) {}

  std::optional<std::uint64_t> length() const override { return download_.length(); }
  bool done() const override { return download_.done(); }
  net::awaitable<Result<void>> begin() override { co_return Result<void>{}; }
  net::awaitable<Result<std::size_t>> read(std::span<char> out) override {
    return download_.read(out);
  }

 private:
  Download& download_;
};

}  // namespace mkv
