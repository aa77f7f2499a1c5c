// The device-side checker of merged outputs (merge/merge_checker.hpp). No fmt here.
// Compiled with the merge's flags (-ftz=false --fmad=false): the expected values come from the
// same routine as the CPU reference; the fp64 error measurement may use any double arithmetic
// (tests/unit/merge.cmake's PTX check looks only for fused or flushed fp32 instructions).
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/cuda_check.hpp"
#include "core/pattern.hpp"
#include "merge/exact_merge.hpp"
#include "merge/merge_checker.hpp"
#include "merge/merge_routine.hpp"
#include "merge/reduce_pattern.hpp"
#include "merge/ulp.hpp"

namespace dcp::merge {

namespace {

constexpr unsigned kFullMask = 0xFFFFFFFFu;
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr unsigned long long kNoKey = ~0ull;

/// Device-resident accumulator; collect() reads it back.
struct CheckAccumulator {
  unsigned long long rows_checked;
  unsigned long long rows_identical;
  unsigned long long elements_checked;
  unsigned long long values_differing;
  unsigned long long lse_differing;
  unsigned long long ulp_max_bits;  ///< bits of a non-negative double: ordered as integers
  unsigned long long lse_ulp_max_bits;
  unsigned long long cond_ulp_max_bits;
  double ulp_sum;
  double lse_ulp_sum;
  unsigned long long key;  ///< this enqueue's lowest difference: entry * (D + 1) + slot
  int first_valid;
  int first_dst;
  unsigned first_call;
  int first_element;
  long long first_entry;
  unsigned first_got;
  unsigned first_expected;
};

struct CheckArgs {
  MergeShape shape;
  std::uint64_t seed;
  std::uint32_t call;
  int dst;
  const std::uint16_t* out;
  const float* lse_out;
};

__device__ pattern::Coord coord(const CheckArgs& a, int src, std::int64_t e, int k) {
  return pattern::Coord{a.seed,
                        a.call,
                        static_cast<std::uint32_t>(src),
                        static_cast<std::uint32_t>(a.dst),
                        static_cast<std::uint64_t>(e),
                        static_cast<std::uint32_t>(k)};
}

/// Expected bits of element k of entry e, the routine's merge of the pattern's inputs.
__device__ std::uint16_t expected_element(const CheckArgs& a, std::int64_t e, int k,
                                          const float* scale, std::uint64_t live) {
  std::uint16_t want = 0;
  merge_lanes<1>(
      scale, live, a.shape.fp16,
      [&](int s, std::uint16_t* bits) { bits[0] = reduce_o_bits(coord(a, s, e, k), a.shape.fp16); },
      &want);
  return want;
}

/// One warp per entry (grid-stride): lane 0 computes the routine's weights and the fp64
/// weights sequentially from the pattern's LSEs; the lanes compare the row's elements.
__global__ void __launch_bounds__(kThreads) check_kernel(CheckArgs a, CheckAccumulator* acc) {
  __shared__ float lse_s[kWarps][kMaxCp];
  __shared__ float scale_s[kWarps][kMaxCp];
  __shared__ double w_s[kWarps][kMaxCp];
  __shared__ std::uint64_t live_s[kWarps];
  __shared__ float lse_out_s[kWarps];
  __shared__ double w_sum_s[kWarps];
  __shared__ double lse_exact_s[kWarps];
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int cp = a.shape.cp;
  const int d = a.shape.head_dim;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarps;
  unsigned long long rows = 0, identical = 0, differing = 0, elements = 0, key = kNoKey;
  unsigned long long lse_differing = 0;
  double ulp_max = 0, ulp_sum = 0, lse_max = 0, lse_sum = 0, cond_max = 0;
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * kWarps + warp; e < a.shape.entries;
       e += warps) {
    for (int s = lane; s < cp; s += 32)
      lse_s[warp][s] = reduce_lse(coord(a, s, e, 0), a.shape.base);
    __syncwarp();
    if (lane == 0) {
      const MergeWeights mw = merge_weights(lse_s[warp], 1, cp, a.shape.base, scale_s[warp]);
      live_s[warp] = mw.live;
      lse_out_s[warp] = mw.lse_out;
      const ExactWeights ex = exact_weights(lse_s[warp], 1, cp, a.shape.base, w_s[warp]);
      w_sum_s[warp] = ex.w_sum;
      lse_exact_s[warp] = ex.lse_out;
    }
    __syncwarp();
    const std::uint64_t live = live_s[warp];
    bool row_differs = false;
    for (int k = lane; k < d; k += 32) {
      const std::uint16_t want = expected_element(a, e, k, scale_s[warp], live);
      const std::uint16_t got = a.out[e * d + k];
      if (got != want) {
        row_differs = true;
        ++differing;
        const unsigned long long kk = static_cast<unsigned long long>(e) * (d + 1) + k;
        if (kk < key) key = kk;
      }
      const ExactElement x = exact_element_terms(
          w_s[warp], w_sum_s[warp], cp, a.shape.fp16,
          [&](int s) { return reduce_o_bits(coord(a, s, e, k), a.shape.fp16); });
      const double err = element_error_ulps(got, x.value, a.shape.fp16);
      ulp_max = err > ulp_max ? err : ulp_max;
      ulp_sum += err;
      const double cond = element_error_ulps_at(got, x.value, x.magnitude, a.shape.fp16);
      cond_max = cond > cond_max ? cond : cond_max;
      ++elements;
    }
    if (lane == 0) {
      const float got = a.lse_out[e];
      if (float_bits(got) != float_bits(lse_out_s[warp])) {
        row_differs = true;
        ++differing;
        ++lse_differing;
        const unsigned long long kk = static_cast<unsigned long long>(e) * (d + 1) + d;
        if (kk < key) key = kk;
      }
      const double err = lse_error_ulps(got, lse_exact_s[warp]);
      lse_max = err > lse_max ? err : lse_max;
      lse_sum += err;
      ++rows;
    }
    if (!__any_sync(kFullMask, row_differs) && lane == 0) ++identical;
    __syncwarp();  // the shared per-warp arrays are rewritten by the next entry
  }
  // Warp totals, then one set of atomics per warp.
  for (int offset = 16; offset > 0; offset >>= 1) {
    differing += __shfl_xor_sync(kFullMask, differing, offset);
    elements += __shfl_xor_sync(kFullMask, elements, offset);
    const unsigned long long other_key = __shfl_xor_sync(kFullMask, key, offset);
    key = other_key < key ? other_key : key;
    const double other_max = __shfl_xor_sync(kFullMask, ulp_max, offset);
    ulp_max = other_max > ulp_max ? other_max : ulp_max;
    ulp_sum += __shfl_xor_sync(kFullMask, ulp_sum, offset);
    const double other_cond = __shfl_xor_sync(kFullMask, cond_max, offset);
    cond_max = other_cond > cond_max ? other_cond : cond_max;
  }
  if (lane == 0 && (rows > 0 || elements > 0)) {
    atomicAdd(&acc->rows_checked, rows);
    atomicAdd(&acc->rows_identical, identical);
    atomicAdd(&acc->elements_checked, elements);
    if (differing) atomicAdd(&acc->values_differing, differing);
    if (lse_differing) atomicAdd(&acc->lse_differing, lse_differing);
    atomicMax(&acc->ulp_max_bits, static_cast<unsigned long long>(__double_as_longlong(ulp_max)));
    atomicMax(&acc->cond_ulp_max_bits,
              static_cast<unsigned long long>(__double_as_longlong(cond_max)));
    atomicMax(&acc->lse_ulp_max_bits,
              static_cast<unsigned long long>(__double_as_longlong(lse_max)));
    atomicAdd(&acc->ulp_sum, ulp_sum);
    atomicAdd(&acc->lse_ulp_sum, lse_sum);
    if (key != kNoKey) atomicMin(&acc->key, key);
  }
}

/// One thread: records this enqueue's lowest difference as the first one if none is recorded
/// yet, then clears the key for the next enqueue.
__global__ void record_first_kernel(CheckArgs a, CheckAccumulator* acc) {
  const unsigned long long key = acc->key;
  if (key == kNoKey) return;
  acc->key = kNoKey;
  if (acc->first_valid) return;
  const int d = a.shape.head_dim;
  const auto e = static_cast<std::int64_t>(key / static_cast<unsigned long long>(d + 1));
  const int slot = static_cast<int>(key % static_cast<unsigned long long>(d + 1));
  float lse[kMaxCp];
  float scale[kMaxCp];
  for (int s = 0; s < a.shape.cp; ++s)
    lse[s] = reduce_lse(coord(a, s, e, 0), a.shape.base);
  const MergeWeights mw = merge_weights(lse, 1, a.shape.cp, a.shape.base, scale);
  acc->first_valid = 1;
  acc->first_dst = a.dst;
  acc->first_call = a.call;
  acc->first_entry = e;
  if (slot == d) {
    acc->first_element = -1;
    acc->first_got = float_bits(a.lse_out[e]);
    acc->first_expected = float_bits(mw.lse_out);
  } else {
    acc->first_element = slot;
    acc->first_got = a.out[e * d + slot];
    acc->first_expected = expected_element(a, e, slot, scale, mw.live);
  }
}

void reset(void* acc, cudaStream_t stream) {
  DCP_CUDA_CHECK(cudaMemsetAsync(acc, 0, sizeof(CheckAccumulator), stream));
  DCP_CUDA_CHECK(cudaMemsetAsync(static_cast<char*>(acc) + offsetof(CheckAccumulator, key), 0xFF,
                                 sizeof(unsigned long long), stream));
}

double bits_to_double(unsigned long long bits) {
  double x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

}  // namespace

DeviceMergeChecker::DeviceMergeChecker() : acc_(sizeof(CheckAccumulator)) {
  reset(acc_.get(), nullptr);
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
}

void DeviceMergeChecker::enqueue(const MergeShape& shape, std::uint64_t seed, std::uint32_t call,
                                 int dst, const std::uint16_t* out, const float* lse_out,
                                 cudaStream_t stream) {
  if (shape.entries == 0) return;
  const CheckArgs a{shape, seed, call, dst, out, lse_out};
  std::int64_t ctas = (shape.entries + kWarps - 1) / kWarps;
  if (ctas > 4096) ctas = 4096;  // grid-stride beyond
  check_kernel<<<static_cast<unsigned>(ctas), kThreads, 0, stream>>>(a,
                                                                     acc_.as<CheckAccumulator>());
  DCP_CUDA_CHECK_LAUNCH();
  record_first_kernel<<<1, 1, 0, stream>>>(a, acc_.as<CheckAccumulator>());
  DCP_CUDA_CHECK_LAUNCH();
}

Accuracy DeviceMergeChecker::collect() {
  CheckAccumulator h{};
  DCP_CUDA_CHECK(cudaMemcpy(&h, acc_.get(), sizeof h, cudaMemcpyDeviceToHost));
  reset(acc_.get(), nullptr);
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
  Accuracy r;
  r.rows_checked = h.rows_checked;
  r.rows_identical = h.rows_identical;
  r.elements_checked = h.elements_checked;
  r.values_differing = h.values_differing;
  r.lse_differing = h.lse_differing;
  r.ulp_max = bits_to_double(h.ulp_max_bits);
  r.ulp_sum = h.ulp_sum;
  r.lse_ulp_max = bits_to_double(h.lse_ulp_max_bits);
  r.lse_ulp_sum = h.lse_ulp_sum;
  r.cond_ulp_max = bits_to_double(h.cond_ulp_max_bits);
  if (h.first_valid) {
    r.first = MergeDifference{h.first_dst,     h.first_call, h.first_entry,
                              h.first_element, h.first_got,  h.first_expected};
  }
  return r;
}

}  // namespace dcp::merge
