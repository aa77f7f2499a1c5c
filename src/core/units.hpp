#pragma once
/// @file
/// Unit constants. Data is stored in SI base units (seconds, bytes, bytes/s); names carry the
/// unit as a suffix (`_s`, `_bytes`, `_Bps`). Only printers scale for display.

#include <cstdint>

namespace dcp {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * kKiB;
inline constexpr std::uint64_t kGiB = 1024 * kMiB;

inline constexpr double kNsPerS = 1e9;
inline constexpr double kUsPerS = 1e6;
inline constexpr double kMsPerS = 1e3;

/// Seconds from a millisecond value (cudaEventElapsedTime reports milliseconds).
constexpr double seconds_from_ms(double ms) {
  return ms / kMsPerS;
}

}  // namespace dcp
