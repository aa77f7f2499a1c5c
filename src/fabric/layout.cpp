#include "fabric/layout.hpp"

#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/error.hpp"

namespace dcp::fabric {

std::size_t round_up(std::size_t v, std::size_t m) {
  DCP_CHECK(m > 0, "round_up: multiple must be > 0");
  const std::size_t rem = v % m;
  if (rem == 0) return v;
  DCP_CHECK(v <= std::numeric_limits<std::size_t>::max() - (m - rem),
            fmt::format("round_up: {} rounded to a multiple of {} overflows", v, m));
  return v + (m - rem);
}

SegmentLayout plan_layout(int cp, std::size_t segment_bytes,
                          std::span<const std::size_t> granularities) {
  if (cp < 1) throw ConfigError(fmt::format("workspace: cp {} must be >= 1", cp));
  if (segment_bytes == 0) throw ConfigError("workspace: segment size must be > 0 bytes");
  DCP_CHECK(!granularities.empty(), "plan_layout: no granularity given");
  std::size_t g = 1;
  for (const std::size_t x : granularities) {
    DCP_CHECK(x > 0, "plan_layout: allocation granularity 0");
    g = std::lcm(g, x);
  }
  SegmentLayout l;
  l.cp = cp;
  l.segment_bytes = segment_bytes;
  l.granularity = g;
  l.mapped_bytes = round_up(segment_bytes, g);
  l.stride = l.mapped_bytes;
  DCP_CHECK(
      l.stride <= std::numeric_limits<std::size_t>::max() / static_cast<std::size_t>(cp),
      fmt::format("workspace: {} segments of {} bytes overflow the address space", cp, l.stride));
  return l;
}

int first_mismatch(std::span<const std::uint64_t> values) {
  for (std::size_t r = 1; r < values.size(); ++r) {
    if (values[r] != values[0]) return static_cast<int>(r);
  }
  return -1;
}

std::string mismatch_message(std::string_view context, std::string_view what,
                             std::span<const std::uint64_t> values) {
  const int r = first_mismatch(values);
  if (r < 0) return {};
  return fmt::format(
      "{}: rank {} has {} {} but rank 0 has {}: every rank must use the same workspace layout "
      "(same cp, same exchange parameters, same GPU model)",
      context, r, what, values[static_cast<std::size_t>(r)], values[0]);
}

std::string format_bytes(std::size_t bytes) {
  constexpr std::size_t kKiB = 1024;
  constexpr std::size_t kMiB = kKiB * 1024;
  constexpr std::size_t kGiB = kMiB * 1024;
  if (bytes >= kGiB && bytes % kGiB == 0) return fmt::format("{} GiB", bytes / kGiB);
  if (bytes >= kMiB && bytes % kMiB == 0) return fmt::format("{} MiB", bytes / kMiB);
  if (bytes >= kKiB && bytes % kKiB == 0) return fmt::format("{} KiB", bytes / kKiB);
  return fmt::format("{} bytes", bytes);
}

}  // namespace dcp::fabric
