// Launcher of the fused LL128 exchange+merge kernel (kernels/fused_reduce.hpp). No fmt here.
// Compiled with -ftz=false --fmad=false (src/kernels/CMakeLists.txt): the merge's fp32
// arithmetic must be plain IEEE operations, as in merge/merge_kernel.cu.
#include "kernels/fused_reduce.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "kernels/fused_reduce.cuh"
#include "kernels/fused_reduce_layout.hpp"

namespace dcp::kernels {

namespace {

const void* kernel_ptr() {
  return reinterpret_cast<const void*>(detail::fused_reduce_kernel<kFusedReduceWarps>);
}

bool aligned(const void* p, std::uintptr_t a) {
  return reinterpret_cast<std::uintptr_t>(p) % a == 0;
}

/// Lets the kernel use kFusedReduceSmemBudget bytes of dynamic shared memory (once per device
/// and process is enough; repeating it is harmless).
void allow_smem() {
  DCP_CUDA_CHECK(cudaFuncSetAttribute(kernel_ptr(), cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      kFusedReduceSmemBudget));
}

}  // namespace

FusedReduceCapacity fused_reduce_capacity() {
  allow_smem();
  int device = 0;
  DCP_CUDA_CHECK(cudaGetDevice(&device));
  FusedReduceCapacity c;
  DCP_CUDA_CHECK(cudaDeviceGetAttribute(&c.sm_count, cudaDevAttrMultiProcessorCount, device));
  int per_sm = 0;
  DCP_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
      &per_sm, kernel_ptr(), kFusedReduceThreads, kFusedReduceSmemBudget));
  c.ctas_per_sm = std::min(per_sm, kFusedReduceMaxCtasPerSm);
  return c;
}

std::string fused_reduce_problem(const FusedReduceParams& p) {
  const FusedAllToAllParams& x = p.x;
  if (const char* s = ll128::shape_problem(x.shape)) return s;
  if (const char* g = ll128::geometry_problem(x.geometry)) return g;
  const int cp = x.shape.cp_size;
  if (x.shape.stats_dim != 1) return "the reduce moves one LSE per row (stats_dim 1)";
  if (x.geometry.cp_size != cp || p.plan.cp_size != cp) return "geometry or plan is for another cp";
  if (p.plan.transport != fused::Transport::kLl128) return "the plan is not an LL128 plan";
  if (p.plan.entries != static_cast<std::uint64_t>(x.shape.entries) || p.plan.ctas < 1) {
    return "the plan does not match the shape (entries > 0 needed)";
  }
  if (p.plan.warps_per_cta != kFusedReduceWarps) return "the plan's warps per CTA differ";
  if (p.plan.ctas > x.geometry.max_channels) return "more CTAs than FIFOs per pair";
  if (x.geometry.slot_lines % static_cast<int>(fused::kLinesPerItem) != 0) {
    return "slot_lines must be a multiple of 4 (an item must not straddle slots)";
  }
  const fused::StreamShape longest = fused::ll128_stream(p.plan, 0);
  if (fused::stream_slots(longest.lines, x.geometry.slot_lines) >
      static_cast<std::uint32_t>(x.geometry.depth)) {
    return "a CTA's stream exceeds its FIFO";
  }
  if (p.plan.o_row_words * 4 != static_cast<std::uint32_t>(x.shape.head_dim) ||
      p.o_div.divisor != p.plan.o_row_words || x.shape.head_dim % fused::kMergeVector != 0) {
    return "row geometry does not match the shape";
  }
  const fused::StageLayout sl = fused::stage_layout(cp, longest.entries, p.plan.o_row_words);
  if (p.smem_bytes != sl.bytes || p.smem_bytes > kFusedReduceSmemBudget) {
    return "shared memory size does not match the plan or exceeds the budget";
  }
  if (x.shape.entries * std::int64_t{cp} * x.shape.head_dim >= (std::int64_t{1} << 32)) {
    return "partial_o exceeds 2^32 elements";
  }
  if (!x.in_o || !x.in_stats || !x.out_o || !x.out_stats) return "a tensor pointer is null";
  if (!aligned(x.in_o, 16) || !aligned(x.out_o, 16) || !aligned(x.in_stats, 4) ||
      !aligned(x.out_stats, 4)) {
    return "partial_o and out must be 16-byte aligned, lse and lse_out 4-byte aligned";
  }
  for (int r = 0; r < cp; ++r) {
    if (!x.segments[r] || !aligned(x.segments[r], ll128::kLineBytes)) {
      return "workspace segment " + std::to_string(r) + " is null or not 128-byte aligned";
    }
  }
  if (x.rank < 0 || x.rank >= cp) return "rank out of range";
  if (x.timeout_ns == 0) return "timeout must be > 0";
  if (p.base != LseBase::kE && p.base != LseBase::kTwo) return "LSE base must be e or 2";
  return {};
}

FusedReduceLaunch::FusedReduceLaunch(const FusedReduceParams& p, cudaStream_t stream, bool pdl) {
  if (const std::string problem = fused_reduce_problem(p); !problem.empty()) {
    throw ConfigError("native-fused: " + problem);
  }
  allow_smem();
  config_.gridDim = dim3(static_cast<unsigned>(p.plan.ctas));
  config_.blockDim = dim3(kFusedReduceThreads);
  config_.dynamicSmemBytes = p.smem_bytes;
  config_.stream = stream;
  attribute_.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute_.val.programmaticStreamSerializationAllowed = pdl ? 1 : 0;
  config_.numAttrs = 1;
}

void FusedReduceLaunch::operator()(const FusedReduceParams& p) const {
  cudaLaunchConfig_t config = config_;
  cudaLaunchAttribute attribute = attribute_;
  config.attrs = &attribute;
  void* args[] = {const_cast<FusedReduceParams*>(&p)};
  DCP_CUDA_CHECK(cudaLaunchKernelExC(&config, kernel_ptr(), args));
}

}  // namespace dcp::kernels
