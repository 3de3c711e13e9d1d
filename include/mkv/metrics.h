// Metrics decisions: which slot a request's method, status and latency count in, and the
// Prometheus text exposition format (version 0.0.4) the admin listener's /metrics answers in.
// The counters themselves live in the server (server/admin/metrics.h); this holds no state.
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkv {

// The methods counted apart; everything else is "other".
inline constexpr std::array<std::string_view, 5> metric_methods = {"GET", "HEAD", "PUT", "DELETE",
                                                                   "other"};

// Returns the slot of method in metric_methods.
[[nodiscard]] constexpr std::size_t method_slot(std::string_view method) {
  for (std::size_t i = 0; i + 1 < metric_methods.size(); ++i) {
    if (metric_methods[i] == method) return i;
  }
  return metric_methods.size() - 1;
}

// The statuses mkv answers, counted apart; any other is counted in the last slot ("other").
inline constexpr std::array<unsigned, 21> metric_statuses = {
    200, 201, 204, 206, 302, 304, 400, 403, 404, 405, 409,
    411, 412, 413, 414, 416, 500, 502, 503, 507, 0};

// Returns the slot of status in metric_statuses.
[[nodiscard]] constexpr std::size_t status_slot(unsigned status) {
  for (std::size_t i = 0; i + 1 < metric_statuses.size(); ++i) {
    if (metric_statuses[i] == status) return i;
  }
  return metric_statuses.size() - 1;
}

// The upper bounds of the latency histogram's buckets, in microseconds (0.25 ms to 10 s); a
// request slower than the last falls in the +Inf bucket after them.
inline constexpr std::array<std::uint64_t, 15> latency_bounds_us = {
    250,    500,    1000,    2500,    5000,    10000,   25000,  50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
inline constexpr std::size_t latency_buckets = latency_bounds_us.size() + 1;

// Returns the bucket a request of micros microseconds falls in (the first bound not below it).
[[nodiscard]] constexpr std::size_t latency_bucket(std::uint64_t micros) {
  std::size_t i = 0;
  while (i < latency_bounds_us.size() && micros > latency_bounds_us[i]) ++i;
  return i;
}

// A metric's labels, in the order shown.
using Labels = std::vector<std::pair<std::string_view, std::string>>;

// Returns value escaped for a label value: backslash, double quote and newline.
[[nodiscard]] inline std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

// Returns value written as Prometheus reads a float: the shortest decimal (never an exponent)
// that reads back equal.
[[nodiscard]] inline std::string format_float(double value) {
  std::array<char, 400> text{};  // fixed notation of any double fits
  const auto [end, ec] =
      std::to_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  return ec == std::errc() ? std::string(text.data(), end) : std::string("NaN");
}

// Builds a text exposition: families (HELP and TYPE, then their samples) one after another.
class PrometheusText {
 public:
  // Starts the family name of type ("counter", "gauge" or "histogram").
  void family(std::string_view name, std::string_view help, std::string_view type) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  // Adds one sample (the value already formatted).
  void sample(std::string_view name, const Labels& labels, std::string_view value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out_ += ',';
        out_ += labels[i].first;
        out_ += "=\"";
        out_ += escape_label(labels[i].second);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void sample(std::string_view name, const Labels& labels, std::uint64_t value) {
    sample(name, labels, std::to_string(value));
  }

  // Adds a histogram's samples from its per-bucket counts (not cumulative; one more than
  // latency_bounds_us, the last for +Inf) and the sum of what it observed, in microseconds.
  void histogram(std::string_view name, const Labels& labels,
                 std::span<const std::uint64_t, latency_buckets> counts, std::uint64_t sum_us) {
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < latency_buckets; ++i) {
      running += counts[i];
      Labels with_le = labels;
      with_le.emplace_back("le", i < latency_bounds_us.size()
                                     ? format_float(static_cast<double>(latency_bounds_us[i]) / 1e6)
                                     : std::string("+Inf"));
      sample(std::string(name) + "_bucket", with_le, running);
    }
    sample(std::string(name) + "_sum", labels, format_float(static_cast<double>(sum_us) / 1e6));
    sample(std::string(name) + "_count", labels, running);
  }

  // Returns the text built so far.
  std::string take() { return std::exchange(out_, {}); }

 private:
  std::string out_;
};

}  // namespace mkv
