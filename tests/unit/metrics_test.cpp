// Metrics decisions: the slots a request counts in, and the Prometheus text exposition.
#include "mkv/metrics.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>

using mkv::Labels;
using mkv::PrometheusText;

TEST_CASE("a method counts in its own slot, anything else in other") {
  const struct {
    const char* method;
    std::string_view slot;
  } rows[] = {
      {"GET", "GET"},      {"HEAD", "HEAD"}, {"PUT", "PUT"},    {"DELETE", "DELETE"},
      {"POST", "other"},   {"get", "other"}, {"", "other"},     {"MOVE", "other"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.method);
    CHECK(mkv::metric_methods[mkv::method_slot(row.method)] == row.slot);
  }
}

TEST_CASE("a status counts in its own slot, an unlisted one in the last") {
  const struct {
    unsigned status;
    unsigned slot_status;  // 0: the "other" slot
  } rows[] = {
      {200, 200}, {201, 201}, {302, 302}, {404, 404}, {412, 412},
      {507, 507}, {418, 0},   {0, 0},     {599, 0},   {100, 0},
  };
  for (const auto& row : rows) {
    CAPTURE(row.status);
    CHECK(mkv::metric_statuses[mkv::status_slot(row.status)] == row.slot_status);
  }
}

TEST_CASE("a latency falls in the first bucket whose bound is not below it") {
  const struct {
    std::uint64_t micros;
    std::size_t bucket;
  } rows[] = {
      {0, 0},        {250, 0},       {251, 1},  {1000, 2},
      {1001, 3},     {10000000, 14}, {10000001, 15},
      {UINT64_MAX, 15},
  };
  for (const auto& row : rows) {
    CAPTURE(row.micros);
    CHECK(mkv::latency_bucket(row.micros) == row.bucket);
  }
}

TEST_CASE("label values are escaped") {
  const struct {
    const char* in;
    const char* out;
  } rows[] = {
      {"plain", "plain"},
      {"a\"b", "a\\\"b"},
      {"a\\b", "a\\\\b"},
      {"a\nb", "a\\nb"},
      {"", ""},
  };
  for (const auto& row : rows) CHECK(mkv::escape_label(row.in) == row.out);
}

TEST_CASE("a family, a sample with labels and one without") {
  PrometheusText text;
  text.family("mkv_requests_total", "Requests answered.", "counter");
  text.sample("mkv_requests_total", Labels{{"method", "GET"}, {"status", "302"}}, 7);
  text.family("mkv_up", "1.", "gauge");
  text.sample("mkv_up", {}, 1);
  CHECK(text.take() ==
        "# HELP mkv_requests_total Requests answered.\n"
        "# TYPE mkv_requests_total counter\n"
        "mkv_requests_total{method=\"GET\",status=\"302\"} 7\n"
        "# HELP mkv_up 1.\n"
        "# TYPE mkv_up gauge\n"
        "mkv_up 1\n");
  CHECK(text.take().empty());
}

TEST_CASE("a histogram's buckets are cumulative and end with +Inf, _sum in seconds") {
  std::array<std::uint64_t, mkv::latency_buckets> counts{};
  counts[0] = 2;   // <= 0.25 ms
  counts[2] = 1;   // <= 1 ms
  counts[15] = 1;  // over 10 s
  PrometheusText text;
  text.histogram("h", Labels{{"method", "PUT"}}, counts, 12'000'750);
  const std::string out = text.take();
  CHECK(out.find("h_bucket{method=\"PUT\",le=\"0.00025\"} 2\n") != std::string::npos);
  CHECK(out.find("h_bucket{method=\"PUT\",le=\"0.0005\"} 2\n") != std::string::npos);
  CHECK(out.find("h_bucket{method=\"PUT\",le=\"0.001\"} 3\n") != std::string::npos);
  CHECK(out.find("h_bucket{method=\"PUT\",le=\"10\"} 3\n") != std::string::npos);
  CHECK(out.find("h_bucket{method=\"PUT\",le=\"+Inf\"} 4\n") != std::string::npos);
  CHECK(out.find("h_sum{method=\"PUT\"} 12.00075\n") != std::string::npos);
  CHECK(out.find("h_count{method=\"PUT\"} 4\n") != std::string::npos);
}
