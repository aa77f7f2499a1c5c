// The merge kernel (merge/merge_kernel.hpp). No fmt here (nvcc 13 + fmt 9 in C++20).
// Compiled with -ftz=false --fmad=false (src/merge/CMakeLists.txt); the fp32 arithmetic is only
// that of merge/merge_routine.hpp, and tests/unit/merge.cmake checks this file's PTX for fused
// or flushed fp32 instructions.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>

#include "core/cuda_check.hpp"
#include "merge/merge_kernel.hpp"
#include "merge/merge_routine.hpp"

namespace dcp::merge {

namespace {

constexpr unsigned kFullMask = 0xFFFFFFFFu;
constexpr int kWarps = MergePlan::kThreads / 32;

struct KernelArgs {
  const std::uint16_t* recv_o;
  const float* recv_lse;
  MergeStrides st;  ///< where (e, s)'s row and LSE are (merge_shape.hpp)
  std::uint16_t* out;
  float* lse_out;
  std::int64_t entries;
  int cp;
  int head_dim;
  int entries_per_cta;
  bool fp16;
  LseBase base;
};

/// Phase 1 for entry e, by one warp: writes scale[0..cp-1] and lse_out[e] (lane 0) and returns
/// the live mask to every lane. The same operations as merge_weights(), in parallel where the
/// order does not matter and in source order where it does (the sum).
__device__ std::uint64_t warp_weights(const KernelArgs& a, std::int64_t e, float* scale, int lane) {
  const float* lse = a.recv_lse + a.st.lse(e, 0);
  const std::int64_t lse_stride = a.st.lse_source;
  const int s0 = lane;
  const int s1 = lane + 32;
  const float l0 = s0 < a.cp ? sanitize_lse(lse[s0 * lse_stride]) : minus_inf();
  const float l1 = s1 < a.cp ? sanitize_lse(lse[s1 * lse_stride]) : minus_inf();
  float m = max_lse(l0, l1);
  for (int offset = 16; offset > 0; offset >>= 1) {
    m = max_lse(m, __shfl_xor_sync(kFullMask, m, offset));
  }
  if (m == minus_inf()) {  // every shard empty: no source is read, the row is +0
    if (lane == 0) a.lse_out[e] = minus_inf();
    return 0;
  }
  const float w0 = source_weight(l0, m, a.base);  // 0 for empty shards and lanes past cp
  const float w1 = source_weight(l1, m, a.base);
  float w_sum = 0.0f;
  for (int s = 0; s < a.cp; ++s) {
    w_sum = add_rn(w_sum, __shfl_sync(kFullMask, s < 32 ? w0 : w1, s & 31));
  }
  if (s0 < a.cp) scale[s0] = w0 != 0.0f ? div_rn(w0, w_sum) : 0.0f;
  if (s1 < a.cp) scale[s1] = w1 != 0.0f ? div_rn(w1, w_sum) : 0.0f;
  const std::uint64_t live =
      static_cast<std::uint64_t>(__ballot_sync(kFullMask, w0 != 0.0f)) |
      (static_cast<std::uint64_t>(__ballot_sync(kFullMask, w1 != 0.0f)) << 32);
  if (lane == 0) a.lse_out[e] = merged_lse(m, w_sum, a.base);
  return live;
}

/// Phase 2 for one chunk of V elements of entry e.
template <int V>
__device__ void merge_chunk(const KernelArgs& a, std::int64_t e, int chunk, const float* scale,
                            std::uint64_t live) {
  const std::uint16_t* src = a.recv_o + a.st.o_row(e, 0) + chunk * V;  // source 0
  std::uint16_t* dst = a.out + e * a.head_dim + chunk * V;
  std::uint16_t out[V];
  if constexpr (V == 8) {
    // One 16-byte load per live source; memcpy keeps the memory order (element j at bytes 2j,
    // 2j + 1) without any assumption about how the vector's words map to elements.
    merge_lanes<8>(
        scale, live, a.fp16,
        [&](int s, std::uint16_t* bits) {
          const uint4 v = *reinterpret_cast<const uint4*>(src + std::int64_t{s} * a.st.o_source);
          memcpy(bits, &v, sizeof v);
        },
        out);
    uint4 v;
    memcpy(&v, out, sizeof v);
    *reinterpret_cast<uint4*>(dst) = v;
  } else {
    merge_lanes<1>(
        scale, live, a.fp16,
        [&](int s, std::uint16_t* bits) { bits[0] = src[std::int64_t{s} * a.st.o_source]; }, out);
    dst[0] = out[0];
  }
}

template <int V>
__global__ void __launch_bounds__(MergePlan::kThreads) merge_kernel(KernelArgs a) {
  extern __shared__ std::uint64_t shared[];  // [epc] live masks, then [epc][cp] scales
  std::uint64_t* live = shared;
  float* scales = reinterpret_cast<float*>(shared + a.entries_per_cta);
  const std::int64_t e0 = static_cast<std::int64_t>(blockIdx.x) * a.entries_per_cta;
  const std::int64_t left = a.entries - e0;
  const int n = left < a.entries_per_cta ? static_cast<int>(left) : a.entries_per_cta;
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  for (int i = warp; i < n; i += kWarps) {
    const std::uint64_t mask = warp_weights(a, e0 + i, scales + i * a.cp, lane);
    if (lane == 0) live[i] = mask;
  }
  __syncthreads();
  const int chunks = a.head_dim / V;
  for (int idx = static_cast<int>(threadIdx.x); idx < n * chunks;
       idx += static_cast<int>(blockDim.x)) {
    const int i = idx / chunks;
    merge_chunk<V>(a, e0 + i, idx - i * chunks, scales + i * a.cp, live[i]);
  }
}

}  // namespace

void launch_merge(const MergePlan& plan, const MergeBuffers& b, cudaStream_t stream) {
  if (plan.ctas() == 0) return;
  const MergeShape& s = plan.shape();
  const KernelArgs a{b.recv_o, b.recv_lse, plan.strides(b),        b.out,  b.lse_out, s.entries,
                     s.cp,     s.head_dim, plan.entries_per_cta(), s.fp16, s.base};
  const dim3 grid(static_cast<unsigned>(plan.ctas()));
  if (plan.vector_width() == 8) {
    merge_kernel<8><<<grid, MergePlan::kThreads, plan.shared_bytes(), stream>>>(a);
  } else {
    merge_kernel<1><<<grid, MergePlan::kThreads, plan.shared_bytes(), stream>>>(a);
  }
  DCP_CUDA_CHECK_LAUNCH();
}

}  // namespace dcp::merge
