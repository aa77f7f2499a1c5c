#pragma once
/// @file
/// Pure arithmetic of a cross-process workspace's layout: every rank's segment is one cuMem
/// allocation of `mapped_bytes`, mapped into one reserved virtual range at base + r * stride.
/// No CUDA calls here, so it is unit-tested on any machine.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dcp::fabric {

/// Where each rank's segment lives in this process's reserved range.
struct SegmentLayout {
  int cp = 0;                     ///< number of segments (= ranks)
  std::size_t segment_bytes = 0;  ///< bytes the caller asked for per rank
  std::size_t granularity = 0;    ///< allocation granularity common to every rank, bytes
  std::size_t mapped_bytes = 0;   ///< bytes of each allocation: segment_bytes rounded up
  std::size_t stride = 0;         ///< distance between consecutive segments, bytes
  /// Bytes of the reserved range: cp * stride.
  [[nodiscard]] std::size_t range_bytes() const { return stride * static_cast<std::size_t>(cp); }
  /// Offset of rank r's segment from the range's base.
  [[nodiscard]] std::size_t offset(int r) const { return stride * static_cast<std::size_t>(r); }
};

/// `v` rounded up to a multiple of `m` (m > 0). Throws Error on overflow.
[[nodiscard]] std::size_t round_up(std::size_t v, std::size_t m);

/// The layout for `cp` segments of `segment_bytes`, given every rank's allocation granularity
/// (bytes). All ranks must use the same layout, so the granularity used is the least common
/// multiple of all of them (the maximum for the usual powers of two); the stride is the
/// rounded-up segment size, so segments are back to back. Throws ConfigError for a zero size
/// or cp < 1, Error for a zero granularity or an overflow.
[[nodiscard]] SegmentLayout plan_layout(int cp, std::size_t segment_bytes,
                                        std::span<const std::size_t> granularities);

/// Index of the first value that differs from values[0], or -1 when all agree.
[[nodiscard]] int first_mismatch(std::span<const std::uint64_t> values);

/// "workspace ipc: rank 2 has segment size (bytes) 4194304 but rank 0 has 8388608: every rank
/// must use the same workspace layout (...)" for the first rank that differs from rank 0; empty
/// when all agree. `what` names the quantity ("segment size (bytes)", "stride (bytes)").
[[nodiscard]] std::string mismatch_message(std::string_view context, std::string_view what,
                                           std::span<const std::uint64_t> values);

/// "8 MiB", "3 KiB", "1000 bytes": exact binary units for messages and describe().
[[nodiscard]] std::string format_bytes(std::size_t bytes);

}  // namespace dcp::fabric
