// Launchers of the direct-store kernels (kernels/direct_kernel.hpp). No fmt here (nvcc 13 + fmt 9
// in C++20). Compiled with the merge's flags (-ftz=false --fmad=false -prec-div=true,
// src/kernels/CMakeLists.txt) because the reduce path runs the merge routine.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/cuda_check.hpp"
#include "kernels/direct_kernel.cuh"
#include "kernels/direct_kernel.hpp"

namespace dcp::kernels {

namespace {

bool aligned(const void* p, std::uintptr_t a) {
  return reinterpret_cast<std::uintptr_t>(p) % a == 0;
}

template <typename Kernel>
std::string resources(const char* name, Kernel k) {
  cudaFuncAttributes a{};
  DCP_CUDA_CHECK(cudaFuncGetAttributes(&a, k));
  return std::string(name) + ": " + std::to_string(a.numRegs) + " registers, " +
         std::to_string(a.localSizeBytes) + " B local (spills), " +
         std::to_string(a.sharedSizeBytes) + " B shared";
}

}  // namespace

std::string direct_params_problem(const DirectParams& p, bool staged) {
  const direct::Layout& l = p.layout;
  const int cp = l.cp_size;
  if (const char* g = direct::geometry_problem(p.geometry)) return g;
  if (const char* q = direct::layout_problem(p.geometry, l)) return q;
  if (l.entries == 0 || l.blocks == 0) return "entries must be > 0 (E = 0 launches nothing)";
  if (l.row_bytes == 0 || l.row_bytes % 16 != 0) return "row bytes must be a multiple of 16";
  if (p.rank < 0 || p.rank >= cp) return "rank out of range";
  if (p.reduce != 0 && l.stats_bytes != 4) return "reduce moves one LSE per row (S = 1)";
  if (!p.in_o || !p.in_stats || !p.out_o || !p.out_stats) return "a tensor pointer is null";
  if (!aligned(p.in_o, 16) || !aligned(p.in_stats, 16) || !aligned(p.out_o, 16) ||
      !aligned(p.out_stats, 16)) {
    return "tensors must be 16-byte aligned";
  }
  for (int r = 0; r < cp; ++r) {
    if (!p.segments[r] || !aligned(p.segments[r], 128)) {
      return "workspace segment " + std::to_string(r) + " is null or not 128-byte aligned";
    }
  }
  if (p.timeout_ns == 0) return "timeout must be > 0";
  if (staged) {
    if (p.staged_ctas < 1 || static_cast<std::uint32_t>(p.staged_ctas) > l.blocks) {
      return "staged CTAs must be in [1, blocks]";
    }
  } else {
    const fused::FusedPlan& f = p.plan;
    if (f.transport != fused::Transport::kDirect || f.cp_size != cp || f.entries != l.entries ||
        f.unit_entries != l.block_entries || f.units != l.blocks || f.ctas < 1) {
      return "the fused plan is not a direct plan of this layout";
    }
  }
  return {};
}

int direct_resident_ctas(bool staged, int* ctas_per_sm, int* sms) {
  int device = 0;
  DCP_CUDA_CHECK(cudaGetDevice(&device));
  int count = 0;
  DCP_CUDA_CHECK(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device));
  int per_sm = 0;
  if (staged) {
    DCP_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        &per_sm, direct_detail::direct_wait_kernel, kDirectThreads, 0));
  } else {
    DCP_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        &per_sm, direct_detail::direct_fused_kernel, kDirectThreads, 0));
  }
  // One CTA slot per SM stays free for the other kernels of the streams (fills, checks, the
  // staged scheme's write and signal launches of other ranks).
  const int usable = per_sm > 1 ? per_sm - 1 : per_sm;
  if (ctas_per_sm) *ctas_per_sm = usable;
  if (sms) *sms = count;
  return usable * count;
}

void launch_direct_fused(const DirectParams& p, cudaStream_t stream) {
  direct_detail::
      direct_fused_kernel<<<static_cast<unsigned>(p.plan.ctas), kDirectThreads, 0, stream>>>(p);
  DCP_CUDA_CHECK_LAUNCH();
}

void launch_direct_staged(direct::StagedStep step, const DirectParams& p, cudaStream_t stream) {
  const auto ctas = static_cast<unsigned>(p.staged_ctas);
  switch (step) {
    case direct::StagedStep::kAdvance:
      direct_detail::direct_advance_kernel<<<1, 32, 0, stream>>>(p);
      break;
    case direct::StagedStep::kWrite:
      direct_detail::direct_write_kernel<<<ctas, kDirectThreads, 0, stream>>>(p);
      break;
    case direct::StagedStep::kSignal:
      // Thread k < cp releases one flag: cp <= 64 threads.
      direct_detail::direct_signal_kernel<<<1, direct::kMaxCp, 0, stream>>>(p);
      break;
    case direct::StagedStep::kWaitDeliver:
      direct_detail::direct_wait_kernel<<<ctas, kDirectThreads, 0, stream>>>(p);
      break;
  }
  DCP_CUDA_CHECK_LAUNCH();
}

std::string direct_kernel_resources() {
  return resources("fused", direct_detail::direct_fused_kernel) + "; " +
         resources("write", direct_detail::direct_write_kernel) + "; " +
         resources("wait", direct_detail::direct_wait_kernel) + "; " +
         resources("signal", direct_detail::direct_signal_kernel);
}

}  // namespace dcp::kernels
