#pragma once
/// @file
/// Defaults and limits that several layers share: one home each (issue 14 item 4). Plain
/// constants, no includes beyond <cstdint>, so device code (kernels/) may include it too.

#include <cstdint>

namespace dcp {

/// Largest cp_size anything accepts: the native kernel's peer table has this many entries, and
/// the sweep and the simulated mode refuse more.
inline constexpr int kMaxCpSize = 64;

/// Default bound, in seconds, on every wait on a peer or on the GPU (device spins, host
/// barriers, collectives) of `run` and `diag` (-T/--timeout).
inline constexpr double kDefaultTimeoutS = 10.0;
/// Largest --timeout accepted, in seconds (one day).
inline constexpr double kMaxTimeoutS = 86400.0;

/// Smallest ring of distinct input/output sets cycled by timed runs (more than the native FIFO
/// depth, so that stale FIFO bytes can never look right).
inline constexpr int kMinRingSize = 5;

/// Largest amount of exchange buffer memory, in bytes, one GPU may be asked to hold for one case
/// (every ring set's four tensors, times the ranks simulated on it). Larger than any GPU's
/// memory, so a shape refused by it could never run; shapes below it may still not fit a given
/// GPU, which the allocation reports.
inline constexpr std::uint64_t kMaxBufferBytesPerGpu = std::uint64_t{1} << 40;  // 1 TiB

}  // namespace dcp
