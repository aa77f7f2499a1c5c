#include "kernels/fused_alltoall.hpp"

#include <cuda_runtime.h>

#include <algorithm>
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
/// and fewer registers), warps with many lines keep up to 8 rounds = 32 lines in flight, so that
/// a warp's whole share of a call is one burst (one round trip) up to 32 lines.
struct Variant {
  std::uint32_t max_lines_per_warp;
  int rounds;
};
constexpr std::array<Variant, 5> kVariants{{{4, 1}, {8, 2}, {12, 3}, {20, 5}, {UINT32_MAX, 8}}};

using KernelFn = void (*)(FusedAllToAllParams);

KernelFn kernel_for(int rounds) {
  switch (rounds) {
    case 1:
      return detail::fused_alltoall_kernel<1>;
    case 2:
      return detail::fused_alltoall_kernel<2>;
    case 3:
      return detail::fused_alltoall_kernel<3>;
    case 5:
      return detail::fused_alltoall_kernel<5>;
    default:
      return detail::fused_alltoall_kernel<8>;
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

int fused_alltoall_resident_ctas(int rounds) {
  int device = 0;
  DCP_CUDA_CHECK(cudaGetDevice(&device));
  int sms = 0;
  DCP_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  int per_sm = 0;
  DCP_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel_for(rounds),
                                                               kThreadsPerCta, 0));
  // One CTA slot per SM stays free for the other kernels of the streams (input fills,
  // verification, the neighbours' work): spinning exchange CTAs must not starve a kernel that a
  // peer's exchange waits behind.
  return (per_sm > 1 ? per_sm - 1 : per_sm) * sms;
}

int fused_alltoall_resident_ctas() {
  int least = INT_MAX;
  for (const Variant& v : kVariants)
    least = std::min(least, fused_alltoall_resident_ctas(v.rounds));
  return least;
}

#if DCP_NATIVE_TRACE
void fused_alltoall_trace_copy(std::vector<std::uint64_t>& out) {
  constexpr std::size_t kWords = std::size_t{kTraceCalls} * kTraceRanks * kTraceWarps * kTraceWords;
  out.resize(kWords);
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
  DCP_CUDA_CHECK(
      cudaMemcpyFromSymbol(out.data(), detail::g_native_trace, kWords * sizeof(std::uint64_t)));
  std::vector<std::uint64_t> zero(kWords, 0);
  DCP_CUDA_CHECK(
      cudaMemcpyToSymbol(detail::g_native_trace, zero.data(), kWords * sizeof(std::uint64_t)));
}
#endif

std::string fused_alltoall_problem(const FusedAllToAllParams& p) {
  if (const char* s = ll128::shape_problem(p.shape)) return s;
  if (const char* g = ll128::geometry_problem(p.geometry)) return g;
  const int cp = p.shape.cp_size;
  if (p.geometry.cp_size != cp) return "workspace geometry is for another cp_size";
  if (p.shape.entries <= 0) return "entries must be > 0 (E = 0 launches nothing)";
  if (p.rank < 0 || p.rank >= cp) return "rank out of range";
  if (ll128::pair_stream_words(p.shape) > ll128::kMaxStreamWords) {
    return "one pair's stream exceeds 2^31 words of 8 bytes; use a smaller batch";
  }
  if (p.channels < 1 || p.channels > p.geometry.max_channels ||
      p.channels > ll128::pair_stream_lines(p.shape)) {
    return "channels must be in [1, min(C_max, lines of a pair's stream)]";
  }
  const std::int64_t row_words =
      std::max<std::int64_t>(ll128::o_row_words(p.shape), ll128::stats_row_words(p.shape));
  if (p.shape.rows() * row_words >= ll128::kMaxTensorWords) {
    return "a tensor exceeds 2^32 words of 8 bytes (32 GiB)";
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
  if (!ll128::same_plan(p.plan, ll128::make_kernel_plan(p.shape, p.channels))) {
    return "kernel plan does not match the shape and channel count";
  }
  if (p.single_warp != 0) {
    const ll128::StreamGeometry first =
        ll128::stream_geometry(p.shape, p.channels, 0, p.geometry.slot_lines);
    if (!ll128::single_warp_allowed(first.slots, p.geometry.depth)) {
      return "single_warp needs at most depth slots per (pair, channel) and call (deadlock)";
    }
  }
  return {};
}

FusedAllToAllLaunch::FusedAllToAllLaunch(const FusedAllToAllParams& p, cudaStream_t stream,
                                         bool pdl) {
  if (const std::string problem = fused_alltoall_problem(p); !problem.empty()) {
    throw ConfigError("native exchange: " + problem);
  }
  // The largest channel (channel 0) decides the variant (a burst never spans two slots).
  const ll128::StreamGeometry sg =
      ll128::stream_geometry(p.shape, p.channels, 0, p.geometry.slot_lines);
  const std::uint32_t slot_lines = static_cast<std::uint32_t>(p.geometry.slot_lines);
  kernel_ = reinterpret_cast<const void*>(
      kernel_for(fused_alltoall_rounds(sg.lines < slot_lines ? sg.lines : slot_lines)));
  config_.gridDim = dim3(
      static_cast<unsigned>(fused_alltoall_ctas(p.shape.cp_size, p.channels, p.single_warp != 0)));
  config_.blockDim = dim3(kThreadsPerCta);
  config_.dynamicSmemBytes = 0;
  config_.stream = stream;
  attribute_.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute_.val.programmaticStreamSerializationAllowed = pdl ? 1 : 0;
  config_.numAttrs = 1;
}

void FusedAllToAllLaunch::operator()(const FusedAllToAllParams& p) const {
  cudaLaunchConfig_t config = config_;
  cudaLaunchAttribute attribute = attribute_;
  config.attrs = &attribute;  // not stored: a copied launch must not point into its source
  // The parameters are passed by address: the launch copies them into the parameter space.
  void* args[] = {const_cast<FusedAllToAllParams*>(&p)};
  DCP_CUDA_CHECK(cudaLaunchKernelExC(&config, kernel_, args));
}

}  // namespace dcp::kernels
