// Device kernels behind bench/device_data.hpp. C++17; no fmt here (nvcc 13 + fmt 9 in C++20).
#include <cuda_runtime.h>

#include <cstring>

#include "bench/device_data.hpp"
#include "core/cuda_check.hpp"
#include "core/pattern.hpp"

namespace dcp::bench {

namespace {

/// Device-resident accumulator of a verification; the host reads it back in collect().
struct VerifyAccumulator {
  unsigned long long rows_checked;
  unsigned long long bad_rows;
  unsigned long long mismatched_elements;
  unsigned int first_claimed;  ///< 0 until the first mismatch is recorded (first writer wins)
  unsigned int first_tensor;   ///< 0 = partial_o, 1 = softmax_stats
  int first_dst;
  int first_src;
  long long first_entry;
  int first_element;
  unsigned int first_call;
  unsigned int first_expected;
  unsigned int first_actual;
};

constexpr int kThreads = 256;

int blocks_for(long long work, int per_block) {
  long long b = (work + per_block - 1) / per_block;
  if (b < 1) b = 1;
  if (b > 65535) b = 65535;
  return static_cast<int>(b);
}

__global__ void fill_kernel(ExchangeShape shape, std::uint64_t seed, std::uint32_t call, int src,
                            std::uint16_t* in_o, std::uint32_t* in_stats) {
  const long long o_elems = shape.rows() * shape.head_dim;
  const long long s_elems = shape.rows() * shape.stats_dim;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
       i < o_elems + s_elems; i += stride) {
    const bool is_o = i < o_elems;
    const long long j = is_o ? i : i - o_elems;
    const int width = is_o ? shape.head_dim : shape.stats_dim;
    const long long row = j / width;
    const pattern::Coord c{seed,
                           call,
                           static_cast<std::uint32_t>(src),
                           static_cast<std::uint32_t>(row % shape.cp_size),
                           static_cast<std::uint64_t>(row / shape.cp_size),
                           static_cast<std::uint32_t>(j % width)};
    if (is_o) {
      in_o[j] = pattern::o_bits(shape.fp16, c);
    } else {
      in_stats[j] = pattern::stats_bits(c);
    }
  }
}

__device__ void record_first(VerifyAccumulator* acc, unsigned tensor, int dst, int src,
                             long long entry, int element, unsigned call, unsigned expected,
                             unsigned actual) {
  if (atomicCAS(&acc->first_claimed, 0u, 1u) == 0u) {
    acc->first_tensor = tensor;
    acc->first_dst = dst;
    acc->first_src = src;
    acc->first_entry = entry;
    acc->first_element = element;
    acc->first_call = call;
    acc->first_expected = expected;
    acc->first_actual = actual;
  }
}

/// One warp per output row (e, p): lanes stride over the row's elements; ballots count the
/// wrong ones; lane 0 adds the row to the totals.
__global__ void verify_kernel(ExchangeShape shape, std::uint64_t seed, std::uint32_t call, int dst,
                              const std::uint16_t* out_o, const std::uint32_t* out_stats,
                              bool check_stats, VerifyAccumulator* acc) {
  const int lane = threadIdx.x & 31;
  const long long warp = (blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x) >> 5;
  const long long warps = (static_cast<long long>(gridDim.x) * blockDim.x) >> 5;
  unsigned long long rows = 0, bad = 0, wrong = 0;
  for (long long row = warp; row < shape.rows(); row += warps) {
    const long long e = row / shape.cp_size;
    const int p = static_cast<int>(row % shape.cp_size);
    // Output row (e, p) on rank dst came from rank p's input row (e, dst).
    pattern::Coord c{seed,
                     call,
                     static_cast<std::uint32_t>(p),
                     static_cast<std::uint32_t>(dst),
                     static_cast<std::uint64_t>(e),
                     0};
    unsigned row_wrong = 0;
    for (int k0 = 0; k0 < shape.head_dim; k0 += 32) {
      const int k = k0 + lane;
      bool mismatch = false;
      if (k < shape.head_dim) {
        c.element = static_cast<std::uint32_t>(k);
        const std::uint16_t want = pattern::o_bits(shape.fp16, c);
        const std::uint16_t got = out_o[row * shape.head_dim + k];
        mismatch = want != got;
        if (mismatch) record_first(acc, 0, dst, p, e, k, call, want, got);
      }
      row_wrong += __popc(__ballot_sync(0xffffffffu, mismatch));
    }
    if (check_stats) {
      for (int k0 = 0; k0 < shape.stats_dim; k0 += 32) {
        const int k = k0 + lane;
        bool mismatch = false;
        if (k < shape.stats_dim) {
          c.element = static_cast<std::uint32_t>(k);
          const std::uint32_t want = pattern::stats_bits(c);
          const std::uint32_t got = out_stats[row * shape.stats_dim + k];
          mismatch = want != got;
          if (mismatch) record_first(acc, 1, dst, p, e, k, call, want, got);
        }
        row_wrong += __popc(__ballot_sync(0xffffffffu, mismatch));
      }
    }
    ++rows;
    if (row_wrong) ++bad;
    wrong += row_wrong;
  }
  if (lane == 0 && rows > 0) {
    atomicAdd(&acc->rows_checked, rows);
    if (bad) atomicAdd(&acc->bad_rows, bad);
    if (wrong) atomicAdd(&acc->mismatched_elements, wrong);
  }
}

__global__ void empty_kernel() {}

}  // namespace

void fill_inputs_device(const ExchangeShape& shape, std::uint64_t seed, std::uint32_t call, int src,
                        void* in_o, void* in_stats, StreamHandle stream) {
  const long long work = shape.rows() * (shape.head_dim + shape.stats_dim);
  if (work == 0) return;
  fill_kernel<<<blocks_for(work, kThreads), kThreads, 0, stream>>>(
      shape, seed, call, src, static_cast<std::uint16_t*>(in_o),
      static_cast<std::uint32_t*>(in_stats));
  DCP_CUDA_CHECK_LAUNCH();
}

void poison_outputs_device(const ExchangeShape& shape, void* out_o, void* out_stats,
                           StreamHandle stream) {
  // All bits set = kPoisonO / kPoisonStats (NaN patterns no input takes).
  static_assert(pattern::kPoisonO == 0xFFFF && pattern::kPoisonStats == 0xFFFFFFFFu);
  if (shape.o_bytes() > 0) {
    DCP_CUDA_CHECK(cudaMemsetAsync(out_o, 0xFF, static_cast<size_t>(shape.o_bytes()), stream));
  }
  if (shape.stats_bytes() > 0) {
    DCP_CUDA_CHECK(
        cudaMemsetAsync(out_stats, 0xFF, static_cast<size_t>(shape.stats_bytes()), stream));
  }
}

void launch_empty_kernel(StreamHandle stream) {
  empty_kernel<<<1, 1, 0, stream>>>();
  DCP_CUDA_CHECK_LAUNCH();
}

DeviceVerifier::DeviceVerifier() : acc_(sizeof(VerifyAccumulator)) {
  DCP_CUDA_CHECK(cudaMemset(acc_.get(), 0, sizeof(VerifyAccumulator)));
}

void DeviceVerifier::enqueue(const ExchangeShape& shape, std::uint64_t seed, std::uint32_t call,
                             int dst, const void* out_o, const void* out_stats, bool check_stats,
                             StreamHandle stream) {
  ++calls_;
  if (shape.rows() == 0) return;
  const long long warps_needed = shape.rows();
  verify_kernel<<<blocks_for(warps_needed * 32, kThreads), kThreads, 0, stream>>>(
      shape, seed, call, dst, static_cast<const std::uint16_t*>(out_o),
      static_cast<const std::uint32_t*>(out_stats), check_stats, acc_.as<VerifyAccumulator>());
  DCP_CUDA_CHECK_LAUNCH();
}

VerifyOutcome DeviceVerifier::collect() {
  VerifyAccumulator h{};
  DCP_CUDA_CHECK(cudaMemcpy(&h, acc_.get(), sizeof(h), cudaMemcpyDeviceToHost));
  DCP_CUDA_CHECK(cudaMemset(acc_.get(), 0, sizeof(VerifyAccumulator)));
  VerifyOutcome out;
  out.calls_checked = calls_;
  calls_ = 0;
  out.rows_checked = h.rows_checked;
  out.bad_rows = h.bad_rows;
  out.mismatched_elements = h.mismatched_elements;
  if (h.first_claimed) {
    Mismatch m;
    m.tensor = h.first_tensor == 0 ? "partial_o" : "softmax_stats";
    m.dst_rank = h.first_dst;
    m.src_rank = h.first_src;
    m.entry = h.first_entry;
    m.element = h.first_element;
    m.call = h.first_call;
    m.expected_bits = h.first_expected;
    m.actual_bits = h.first_actual;
    out.first = m;
  }
  return out;
}

}  // namespace dcp::bench
