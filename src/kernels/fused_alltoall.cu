#include "kernels/fused_alltoall.hpp"

#include <cuda_runtime.h>

#include <array>
#include <climits>
#include <cstdint>
#include <string>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "kernels/fused_alltoall.cuh"

namespace dcp::kernels {

namespace {

/// Instantiations: warps with few lines per call keep fewer rounds in flight (less predication
/// and fewer registers), warps with many lines keep 4 rounds = 16 lines in flight.
struct Variant {
  std::uint32_t max_lines_per_warp;
  int rounds;
};
constexpr std::array<Variant, 3> kVariants{{{4, 1}, {8, 2}, {UINT32_MAX, 4}}};

using KernelFn = void (*)(FusedAllToAllParams);

KernelFn kernel_for(int rounds) {
  switch (rounds) {
    case 1:
      return detail::fused_alltoall_kernel<1>;
    case 2:
      return detail::fused_alltoall_kernel<2>;
    default:
      return detail::fused_alltoall_kernel<4>;
  }
}

bool aligned(const void* p, std::uintptr_t a) {
  return reinterpret_cast<std::uintptr_t>(p) % a == 0;
}

}  // namespace

int fused_alltoall_rounds(std::uint32_t lines_per_warp) {
  for (const Variant& v : kVariants) {
    if (lines_per_warp <= v.max_lines_per_warp) return v.rounds;
  }
  return kVariants.back().rounds;
}

int fused_alltoall_resident_ctas() {
  int device = 0;
  DCP_CUDA_CHECK(cudaGetDevice(&device));
  int sms = 0;
  DCP_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  int per_sm = INT_MAX;
  for (const Variant& v : kVariants) {
    int blocks = 0;
    DCP_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel_for(v.rounds),
                                                                 kThreadsPerCta, 0));
    if (blocks < per_sm) per_sm = blocks;
  }
  // One CTA slot per SM stays free for the other kernels of the streams (input fills,
  // verification, the neighbours' work): spinning exchange CTAs must not starve a kernel that a
  // peer's exchange waits behind.
  return (per_sm > 1 ? per_sm - 1 : per_sm) * sms;
}

std::string fused_alltoall_problem(const FusedAllToAllParams& p) {
  if (const char* s = ll128::shape_problem(p.shape)) return s;
  if (const char* g = ll128::geometry_problem(p.geometry)) return g;
  const int cp = p.shape.cp_size;
  if (p.geometry.cp_size != cp) return "workspace geometry is for another cp_size";
  if (p.shape.entries <= 0) return "entries must be > 0 (E = 0 launches nothing)";
  if (p.rank < 0 || p.rank >= cp) return "rank out of range";
  if (p.channels < 1 || p.channels > p.geometry.max_channels || p.channels > p.shape.entries) {
    return "channels must be in [1, min(C_max, E)]";
  }
  if (ll128::max_stream_words(p.shape, p.channels) > ll128::kMaxStreamWords) {
    return "one channel's stream exceeds 2^31 words; use more channels or a smaller batch";
  }
  if (!p.in_o || !p.in_stats || !p.out_o || !p.out_stats) return "a tensor pointer is null";
  if (!aligned(p.in_o, 16) || !aligned(p.in_stats, 16) || !aligned(p.out_o, 16) ||
      !aligned(p.out_stats, 16)) {
    return "tensors must be 16-byte aligned";
  }
  for (int r = 0; r < cp; ++r) {
    if (!p.segments[r] || !aligned(p.segments[r], ll128::kLineBytes)) {
      return "workspace segment " + std::to_string(r) + " is null or not 128-byte aligned";
    }
  }
  if (p.timeout_ns == 0) return "timeout must be > 0";
  if (p.corrupt_peer < -1 || p.corrupt_peer >= cp) return "corrupt_peer out of range";
  const ll128::RowDivisors d = ll128::RowDivisors::make(p.shape);
  if (p.divisors.o.divisor != d.o.divisor || p.divisors.stats.divisor != d.stats.divisor) {
    return "row divisors do not match the shape";
  }
  return {};
}

void launch_fused_alltoall(const FusedAllToAllParams& p, cudaStream_t stream, bool pdl) {
  if (const std::string problem = fused_alltoall_problem(p); !problem.empty()) {
    throw ConfigError("native exchange: " + problem);
  }
  // The largest channel decides the variant (a batch never spans two slots).
  const int last = p.channels - 1;
  const ll128::StreamGeometry sg =
      ll128::stream_geometry(p.shape, p.channels, last, p.geometry.slot_lines);
  const std::uint32_t slot_lines = static_cast<std::uint32_t>(p.geometry.slot_lines);
  const int rounds = fused_alltoall_rounds(sg.lines < slot_lines ? sg.lines : slot_lines);

  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(static_cast<unsigned>(fused_alltoall_ctas(p.shape.cp_size, p.channels)));
  cfg.blockDim = dim3(kThreadsPerCta);
  cfg.dynamicSmemBytes = 0;
  cfg.stream = stream;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = pdl ? 1 : 0;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  DCP_CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel_for(rounds), p));
}

}  // namespace dcp::kernels
