// The admin listener's requests: what a target asks for (the metrics, or an online job with
// its settings), and the line protocol a job's progress streams back in.
//
//   GET  /metrics
//   POST /jobs/verify?repair=1&prefix=P&rate=MBPS&concurrency=N
//   POST /jobs/gc?dry-run=1&grace=SECONDS&concurrency=N
//   POST /jobs/rebalance?volumes=URL,URL&replicas=N&dry-run=1&grace=SECONDS&rate=MBPS&
//        concurrency=N
//
// A job's answer is 200 with a text/plain body streamed while the job runs, one line each:
// "note TEXT" (something worth showing), "progress TEXT" (the progress line now), "summary
// TEXT" (a line of the closing report), "out TEXT" (a line for standard output: a dry run's
// plan), and last "exit N" (the command's exit status).
#pragma once

#include "mkv/error.h"
#include "mkv/topology.h"
#include "mkv/volume.h"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mkv {

// The settings of an online verify (see `mkv verify --help`).
struct VerifyRequest {
  bool repair = false;
  std::string prefix;
  double rate_mb = 0;  // MB/s; 0: no limit
  std::size_t concurrency = 16;

  friend bool operator==(const VerifyRequest&, const VerifyRequest&) = default;
};

// The settings of an online gc (see `mkv gc --help`).
struct GcRequest {
  bool dry_run = false;
  std::uint64_t grace_seconds = 3600;
  std::size_t concurrency = 16;

  friend bool operator==(const GcRequest&, const GcRequest&) = default;
};

// The settings of an online rebalance (see `mkv rebalance --help`): the topology to move to.
struct RebalanceRequest {
  Topology target;
  bool dry_run = false;
  std::uint64_t grace_seconds = 10;  // old copies are deleted this long after the record flips
  std::size_t concurrency = 16;
  double rate_mb = 0;  // MB/s copied; 0: no limit

  friend bool operator==(const RebalanceRequest&, const RebalanceRequest&) = default;
};

// What an admin request asks for.
struct AdminRequest {
  enum class What { metrics, verify, gc, rebalance };
  What what = What::metrics;
  VerifyRequest verify;
  GcRequest gc;
  RebalanceRequest rebalance;

  friend bool operator==(const AdminRequest&, const AdminRequest&) = default;
};

namespace detail {

// Returns text read as a switch: "1", "true", "" (a bare name) are on; "0", "false" off.
inline Result<bool> parse_switch(std::string_view name, std::string_view text) {
  if (text.empty() || text == "1" || text == "true") return true;
  if (text == "0" || text == "false") return false;
  return Error::invalid_query(std::string(name) + " must be 1 or 0, not \"" + std::string(text) +
                              "\"");
}

// Returns text read as a whole number from low up to high.
inline Result<std::uint64_t> parse_count(std::string_view name, std::string_view text,
                                         std::uint64_t low, std::uint64_t high) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < low || n > high) {
    return Error::invalid_query(std::string(name) + " must be a whole number from " +
                                std::to_string(low) + " to " + std::to_string(high) + ", not \"" +
                                std::string(text) + "\"");
  }
  return n;
}

// Returns text read as a non-negative number (a rate).
inline Result<double> parse_rate(std::string_view name, std::string_view text) {
  double n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || !(n >= 0) || n > 1e9) {
    return Error::invalid_query(std::string(name) + " must be a number of MB/s (0: no limit), "
                                "not \"" + std::string(text) + "\"");
  }
  return n;
}

}  // namespace detail

// The most keys (or directories) an online job may work on at once.
inline constexpr std::uint64_t max_job_concurrency = 1024;

// Returns what the admin request `method target` asks for, or why it cannot be served:
// not_found (another path), method_not_allowed, invalid_query (an unknown parameter or a bad
// value; each parameter at most once).
[[nodiscard]] inline Result<AdminRequest> parse_admin_request(std::string_view method,
                                                              std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return Error::bad_request("admin target: " + url.error().message());
  const std::string path = url->path();
  AdminRequest request;
  if (path == "/metrics") {
    if (method != "GET") return Error::method_not_allowed("GET");
    return request;
  }
  if (path == "/jobs/verify") {
    request.what = AdminRequest::What::verify;
  } else if (path == "/jobs/gc") {
    request.what = AdminRequest::What::gc;
  } else if (path == "/jobs/rebalance") {
    request.what = AdminRequest::What::rebalance;
  } else {
    return Error::not_found();
  }
  if (method != "POST") return Error::method_not_allowed("POST");
  std::string seen = ",";
  std::optional<std::vector<Volume>> volumes;
  std::uint64_t replicas = 0;
  for (const auto& param : url->params()) {
    const std::string& name = param.key;
    if (seen.find("," + name + ",") != std::string::npos) {
      return Error::invalid_query(name + " given twice");
    }
    seen += name + ",";
    const std::string_view value = param.has_value ? std::string_view(param.value) : "";
    if (name == "concurrency") {
      auto n = detail::parse_count(name, value, 1, max_job_concurrency);
      if (!n) return n.error();
      request.verify.concurrency = request.gc.concurrency = request.rebalance.concurrency =
          static_cast<std::size_t>(*n);
      continue;
    }
    if (request.what == AdminRequest::What::rebalance) {
      if (name == "volumes") {
        auto parsed = parse_volume_list(value);
        if (!parsed) return Error::invalid_query("volumes: " + message(parsed.error()));
        volumes = std::move(*parsed);
      } else if (name == "replicas") {
        auto n = detail::parse_count(name, value, 1, 1000);
        if (!n) return n.error();
        replicas = *n;
      } else if (name == "dry-run") {
        auto on = detail::parse_switch(name, value);
        if (!on) return on.error();
        request.rebalance.dry_run = *on;
      } else if (name == "grace") {
        auto grace = detail::parse_count(name, value, 0, 24 * 3600);
        if (!grace) return grace.error();
        request.rebalance.grace_seconds = *grace;
      } else if (name == "rate") {
        auto rate = detail::parse_rate(name, value);
        if (!rate) return rate.error();
        request.rebalance.rate_mb = *rate;
      } else {
        return Error::invalid_query("unknown parameter " + name + " for rebalance");
      }
    } else if (request.what == AdminRequest::What::verify) {
      if (name == "repair") {
        auto on = detail::parse_switch(name, value);
        if (!on) return on.error();
        request.verify.repair = *on;
      } else if (name == "prefix") {
        request.verify.prefix = std::string(value);
      } else if (name == "rate") {
        auto rate = detail::parse_rate(name, value);
        if (!rate) return rate.error();
        request.verify.rate_mb = *rate;
      } else {
        return Error::invalid_query("unknown parameter " + name + " for verify");
      }
    } else {
      if (name == "dry-run") {
        auto on = detail::parse_switch(name, value);
        if (!on) return on.error();
        request.gc.dry_run = *on;
      } else if (name == "grace") {
        auto grace = detail::parse_count(name, value, 0, 10ull * 365 * 24 * 3600);
        if (!grace) return grace.error();
        request.gc.grace_seconds = *grace;
      } else {
        return Error::invalid_query("unknown parameter " + name + " for gc");
      }
    }
  }
  if (request.what == AdminRequest::What::rebalance) {
    if (!volumes || replicas == 0) return Error::invalid_query("rebalance needs volumes and replicas");
    if (volumes->size() < replicas) {
      return Error::invalid_query(message(Error::not_enough_volumes(replicas, volumes->size())));
    }
    request.rebalance.target = make_topology(std::move(*volumes), replicas);
  }
  return request;
}

// Returns the admin target that asks for request (the inverse of parse_admin_request: what the
// CLI sends to hand a job to a running server). Settings at their defaults are left out,
// except concurrency, which is always named.
[[nodiscard]] inline std::string admin_target(const AdminRequest& request) {
  const auto number = [](double value) {
    std::array<char, 64> text{};
    const auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() ? std::string(text.data(), end) : std::string("0");
  };
  boost::urls::url target;
  switch (request.what) {
    case AdminRequest::What::metrics: return "/metrics";
    case AdminRequest::What::verify: {
      const VerifyRequest& v = request.verify;
      target.set_path("/jobs/verify");
      if (v.repair) target.params().append({"repair", "1"});
      if (!v.prefix.empty()) target.params().append({"prefix", v.prefix});
      if (v.rate_mb > 0) target.params().append({"rate", number(v.rate_mb)});
      target.params().append({"concurrency", std::to_string(v.concurrency)});
      break;
    }
    case AdminRequest::What::gc: {
      const GcRequest& g = request.gc;
      target.set_path("/jobs/gc");
      if (g.dry_run) target.params().append({"dry-run", "1"});
      target.params().append({"grace", std::to_string(g.grace_seconds)});
      target.params().append({"concurrency", std::to_string(g.concurrency)});
      break;
    }
    case AdminRequest::What::rebalance: {
      const RebalanceRequest& r = request.rebalance;
      std::string volumes;
      for (const auto& url : r.target.urls) volumes += (volumes.empty() ? "" : ",") + url;
      target.set_path("/jobs/rebalance");
      target.params().append({"volumes", volumes});
      target.params().append({"replicas", std::to_string(r.target.replicas)});
      if (r.dry_run) target.params().append({"dry-run", "1"});
      target.params().append({"grace", std::to_string(r.grace_seconds)});
      if (r.rate_mb > 0) target.params().append({"rate", number(r.rate_mb)});
      target.params().append({"concurrency", std::to_string(r.concurrency)});
      break;
    }
  }
  return std::string(target.buffer());
}

// The kinds of line a job's stream carries.
enum class JobLine { note, progress, summary, exit, out };

// Returns the stream line (with its newline) of kind carrying text (one line: a newline in
// text is replaced by a space).
[[nodiscard]] inline std::string job_line(JobLine kind, std::string_view text) {
  static constexpr std::string_view tags[] = {"note ", "progress ", "summary ", "exit ", "out "};
  std::string line(tags[static_cast<std::size_t>(kind)]);
  for (const char c : text) line += c == '\n' ? ' ' : c;
  line += '\n';
  return line;
}

// Returns the kind and text of a stream line (without its newline), or nullopt if it is none.
[[nodiscard]] inline std::optional<std::pair<JobLine, std::string_view>> read_job_line(
    std::string_view line) {
  const std::pair<std::string_view, JobLine> kinds[] = {{"note ", JobLine::note},
                                                        {"progress ", JobLine::progress},
                                                        {"summary ", JobLine::summary},
                                                        {"exit ", JobLine::exit},
                                                        {"out ", JobLine::out}};
  for (const auto& [tag, kind] : kinds) {
    if (line.starts_with(tag)) return std::pair{kind, line.substr(tag.size())};
  }
  return std::nullopt;
}

}  // namespace mkv
