// Where a PUT's bytes come from: the client's request body, or a body mkv makes itself (a
// bucket's marker, a copy read back from a volume, an S3 aws-chunked body decoded). The PUT
// path (api/put.cpp) streams any of them to the volumes the same way.
#pragma once

#include "asio.h"

#include "mkv/error.h"

#include <boost/asio.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace mkv {

class BodySource {
 public:
  virtual ~BodySource() = default;

  // Returns the body's length when it is known before the body is read.
  virtual std::optional<std::uint64_t> length() const = 0;
  // Returns whether the whole body has been read.
  virtual bool done() const = 0;
  // Called once the PUT is ready for the body (after its checks, so a refused PUT is not sent
  // one): the client's body answers "Expect: 100-continue" here.
  virtual net::awaitable<Result<void>> begin() = 0;
  // Fills out with the next bytes of the body; returns fewer only at its end (then done()).
  virtual net::awaitable<Result<std::size_t>> read(std::span<char> out) = 0;
};

// A body mkv holds in memory (small: a bucket's marker).
class BytesBody final : public BodySource {
 public:
  explicit BytesBody(std::string_view bytes) : bytes_(bytes) {}

  std::optional<std::uint64_t> length() const override { return bytes_.size(); }
  bool done() const override { return bytes_.empty(); }
  net::awaitable<Result<void>> begin() override { co_return Result<void>{}; }
  net::awaitable<Result<std::size_t>> read(std::span<char> out) override {
    const std::size_t n = std::min(out.size(), bytes_.size());
    if (n > 0) std::memcpy(out.data(), bytes_.data(), n);  // (an empty out may have no data)
    bytes_.remove_prefix(n);
    co_return n;
  }

 private:
  std::string_view bytes_;
};

}  // namespace mkv
