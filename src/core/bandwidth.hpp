#pragma once
/// @file
/// The bandwidth model, in one place. Formulas follow nccl-tests' doc/PERFORMANCE.md for
/// all-to-all: the "size" is one rank's send buffer (here both tensors, all cp rows),
/// algbw = size / time, and busbw = algbw · (n − 1) / n, since each rank keeps 1/n of its data.

namespace dcp {

/// Algorithm bandwidth in bytes/s: `bytes` moved per rank in `seconds`. 0 when seconds <= 0.
constexpr double alg_bw_Bps(double bytes, double seconds) {
  return seconds > 0 ? bytes / seconds : 0.0;
}

/// Bus bandwidth of an all-to-all over `nranks` ranks, from its algorithm bandwidth.
constexpr double bus_bw_alltoall_Bps(double alg_Bps, int nranks) {
  return nranks > 0 ? alg_Bps * static_cast<double>(nranks - 1) / static_cast<double>(nranks) : 0.0;
}

}  // namespace dcp
