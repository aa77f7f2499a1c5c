#pragma once
/// @file
/// FusedAllToAllParams: everything one rank's exchange kernel needs, as one trivially copyable
/// struct passed by value (__grid_constant__). Built by the host object (native_alltoall.cpp) for
/// each local rank and call; the launcher validates it (fused_alltoall.cu).

#include <cstdint>
#include <type_traits>

#include "core/shape.hpp"
#include "kernels/ll128_layout.hpp"

namespace dcp::kernels {

struct FusedAllToAllParams {
  /// This rank's tensors, all contiguous and 16-byte aligned.
  /// in_o/out_o: [E, cp, D] bf16/fp16; in_stats/out_stats: [E, cp, S] fp32.
  const void* in_o = nullptr;
  const void* in_stats = nullptr;
  void* out_o = nullptr;
  void* out_stats = nullptr;
  /// Base address of every rank's workspace segment as mapped in this process (index = rank);
  /// entries [cp, kMaxCp) are unused. Works for sim, ipc and fabric mappings alike.
  void* segments[ll128::kMaxCp] = {};
  ExchangeShape shape;           ///< identical on every rank
  ll128::Geometry geometry;      ///< workspace layout, identical on every rank
  ll128::KernelPlan plan;        ///< ll128::make_kernel_plan(shape, channels)
  int rank = 0;                  ///< this rank, in [0, cp)
  int channels = 1;              ///< C for this call, in [1, geometry.max_channels]
  int single_warp = 1;           ///< 1: one warp per (peer, channel) sends, then receives (only
                                 ///< when ll128::single_warp_allowed); 0: separate roles
  std::uint64_t timeout_ns = 0;  ///< every device-side wait gives up after this (ns, > 0)
  int corrupt_peer = -1;         ///< fault injection: flip a byte in line 0 of channel 0 to
                                 ///< this peer on every call; -1 = off
};

static_assert(std::is_trivially_copyable_v<FusedAllToAllParams>,
              "kernel parameters are copied bytewise into the launch");
static_assert(sizeof(FusedAllToAllParams) < 4096, "must fit the 4 KiB kernel parameter space");

}  // namespace dcp::kernels
