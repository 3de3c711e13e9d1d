// A synthetic set of volumes for testing and benchmarking rebuild at any number of keys without
// files: which keys exist, which volume holds which copy (of what size and time), and what each
// volume's nginx JSON autoindex would list, all computed from a seed. Test-only.
//
// Layout: key i lives in leaf directory j = i / per_dir, which is "tTTTT/sSSS/" (top directory
// j / fanout, subdirectory j % fanout). Most keys are "tTTTT/sSSS/k<i>" (decimal, so listing
// order and byte order differ); the first two of each leaf sit in the top directory beside it as
// "sSSS-<i>" and "sSSS0<i>", which sort just before and just after "sSSS/" and so test the walk
// order. Copies are on the key's placement (the first `replicas` volumes of its ranking).
// With faults, some keys are under-replicated, misplaced or have copies of different sizes, and
// volume 0 lists one name that is not a key; with markers, every third top directory is a
// bucket with its marker "tTTTT/.mkv-bucket" (empty) on the marker key's placement.
#pragma once

#include "mkv/conditions.h"
#include "mkv/placement.h"
#include "mkv/rebuild.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkv::synth {

struct TreeSpec {
  std::uint64_t keys = 1000;
  std::uint64_t seed = 1;
  std::uint64_t per_dir = 100;  // keys per leaf directory
  std::uint64_t fanout = 256;   // leaf directories per top directory
  std::size_t replicas = 2;
  bool faults = false;
  bool markers = false;
  std::vector<std::string> urls;  // every volume, as rebuild's -v names them
  std::string broken;             // a directory prefix whose listing answers 500 (none: "")
};

// Returns a well-mixed 64-bit hash of x and the seed (splitmix64).
inline std::uint64_t mix(std::uint64_t seed, std::uint64_t x) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + x + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline std::string padded(std::uint64_t n, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llu", width, static_cast<unsigned long long>(n));
  return buf;
}

inline std::uint64_t leaves(const TreeSpec& s) {
  return (s.keys + s.per_dir - 1) / s.per_dir;
}
inline std::uint64_t tops(const TreeSpec& s) {
  return (leaves(s) + s.fanout - 1) / s.fanout;
}
// (Appended, not "t" + ...: GCC 12 warns -Wrestrict falsely on that.)
inline std::string top_name(std::uint64_t t) {
  std::string name = "t";
  name += padded(t, 4);
  return name;
}
inline std::string sub_name(std::uint64_t j, const TreeSpec& s) {
  std::string name = "s";
  name += padded(j % s.fanout, 3);
  return name;
}

// Returns the key numbered i.
inline std::string key_of(const TreeSpec& s, std::uint64_t i) {
  const std::uint64_t j = i / s.per_dir;
  std::string key = top_name(j / s.fanout) + '/' + sub_name(j, s);
  switch (i % s.per_dir) {
    case 0: return key + '-' + std::to_string(i);
    case 1: return key + '0' + std::to_string(i);
    default: return key + "/k" + std::to_string(i);
  }
}

inline bool is_marker_top(const TreeSpec& s, std::uint64_t t) {
  return s.markers && t % 3 == 0;
}
inline std::string marker_of(std::uint64_t t) {
  return top_name(t) + "/.mkv-bucket";
}

// Returns every copy of key (numbered i, or a marker when i is nullopt) that the volumes hold.
inline std::vector<Sighting> copies_of(const TreeSpec& s, std::string_view key,
                                       std::optional<std::uint64_t> i) {
  const std::uint64_t h = mix(s.seed, i ? *i : std::hash<std::string_view>{}(key));
  const std::uint64_t size = i ? 1 + h % (std::uint64_t{1} << 20) : 0;
  const std::int64_t mtime = 1'700'000'000 + static_cast<std::int64_t>(h % 10'000'000);
  const auto order = rank_volumes(key, s.urls);
  std::size_t held = std::min(s.replicas, order.size());
  const bool faulty = s.faults && i;
  if (faulty && *i % 101 == 3 && held > 1) held -= 1;  // under-replicated
  std::vector<Sighting> copies;
  for (std::size_t r = 0; r < held; ++r) {
    const bool conflict = faulty && *i % 107 == 7 && r == 1;  // a copy of another value
    copies.push_back(
        {s.urls[order[r]], size + (conflict ? 1 : 0), mtime + (faulty ? std::int64_t(r) : 0)});
  }
  if (faulty && *i % 103 == 5 && order.size() > held) {  // misplaced: one copy too many
    copies.push_back({s.urls[order[held]], size, mtime});
  }
  return copies;
}

// Returns the copy of key that volume v holds, if any.
inline std::optional<Sighting> copy_on(const TreeSpec& s, std::size_t v, std::string_view key,
                                       std::optional<std::uint64_t> i) {
  if (!s.faults && s.replicas >= s.urls.size()) {  // every volume holds every key: no ranking
    const std::uint64_t h = mix(s.seed, i ? *i : std::hash<std::string_view>{}(key));
    return Sighting{s.urls[v], i ? 1 + h % (std::uint64_t{1} << 20) : 0,
                    1'700'000'000 + static_cast<std::int64_t>(h % 10'000'000)};
  }
  for (auto& c : copies_of(s, key, i)) {
    if (c.volume == s.urls[v]) return c;
  }
  return std::nullopt;
}

// The number of keys the volumes hold in all: the numbered keys and the markers.
inline std::uint64_t total_keys(const TreeSpec& s) {
  std::uint64_t markers = 0;
  for (std::uint64_t t = 0; t < tops(s); ++t) markers += is_marker_top(s, t) ? 1 : 0;
  return s.keys + markers;
}

// Formats one entry as nginx's `autoindex_format json` does.
inline void json_entry(std::string& out, bool& first, std::string_view name, bool file,
                       std::uint64_t size, std::int64_t mtime) {
  out += first ? "\n" : ",\n";
  first = false;
  out += "{ \"name\":\"";
  out += name;
  out += file ? "\", \"type\":\"file\", \"mtime\":\"" : "\", \"type\":\"directory\", \"mtime\":\"";
  out += format_http_date(mtime);
  out += '"';
  if (file) out += ", \"size\":" + std::to_string(size);
  out += " }";
}

// Returns volume v's JSON listing of the directory whose key prefix is prefix ("" for the root,
// "tTTTT/", "tTTTT/sSSS/"), or nullopt when the volume has no such directory. Entries come in
// descending key order, as no walk should rely on nginx's order.
inline std::optional<std::string> listing(const TreeSpec& s, std::size_t v,
                                          std::string_view prefix) {
  std::string out = "[";
  bool first = true;
  const std::int64_t dir_time = 1'700'000'000;
  if (prefix.empty()) {
    for (std::uint64_t t = tops(s); t-- > 0;) {
      json_entry(out, first, top_name(t), false, 0, dir_time);
    }
    if (s.faults && v == 0) json_entry(out, first, "latin1-\xE9", true, 3, dir_time);
    return out + "\n]\n";
  }
  // Parse "tTTTT/" or "tTTTT/sSSS/".
  if (prefix.size() == 6 && prefix[0] == 't' && prefix[5] == '/') {
    const std::uint64_t t = std::stoull(std::string(prefix.substr(1, 4)));
    if (t >= tops(s)) return std::nullopt;
    const std::uint64_t last = std::min(leaves(s), (t + 1) * s.fanout);
    for (std::uint64_t j = last; j-- > t * s.fanout;) {
      for (std::uint64_t i = std::min(s.keys, j * s.per_dir + 2); i-- > j * s.per_dir;) {
        const std::string key = key_of(s, i);
        if (auto c = copy_on(s, v, key, i)) {
          json_entry(out, first, key.substr(6), true, c->size, c->mtime);
        }
      }
      if (j * s.per_dir + 2 < s.keys) json_entry(out, first, sub_name(j, s), false, 0, dir_time);
    }
    return out + "\n]\n";
  }
  if (prefix.size() == 11 && prefix[0] == 't' && prefix[5] == '/' && prefix[6] == 's' &&
      prefix[10] == '/') {
    const std::uint64_t t = std::stoull(std::string(prefix.substr(1, 4)));
    const std::uint64_t sub = std::stoull(std::string(prefix.substr(7, 3)));
    const std::uint64_t j = t * s.fanout + sub;
    if (sub >= s.fanout || j >= leaves(s)) return std::nullopt;
    for (std::uint64_t i = std::min(s.keys, (j + 1) * s.per_dir); i-- > j * s.per_dir + 2;) {
      const std::string key = key_of(s, i);
      if (auto c = copy_on(s, v, key, i)) {
        json_entry(out, first, key.substr(11), true, c->size, c->mtime);
      }
    }
    return out + "\n]\n";
  }
  return std::nullopt;
}

// Returns the marker copy volume v holds for the key "tTTTT/.mkv-bucket", if any.
inline std::optional<Sighting> marker_on(const TreeSpec& s, std::size_t v, std::string_view key) {
  if (key.size() != 17 || key[0] != 't' || key.substr(5) != "/.mkv-bucket") return std::nullopt;
  const std::uint64_t t = std::stoull(std::string(key.substr(1, 4)));
  if (t >= tops(s) || !is_marker_top(s, t)) return std::nullopt;
  return copy_on(s, v, key, std::nullopt);
}

}  // namespace mkv::synth
