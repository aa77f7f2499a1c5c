#pragma once
/// @file
/// The device-side check of merged outputs (the GPU twin of check_merge_host in
/// merge/reference.hpp, as bench/device_data's DeviceVerifier is for the exchange): recomputes
/// the expected merge of a destination rank from merge/reduce_pattern.hpp with the routine
/// (merge_weights run sequentially, as on the CPU), compares bits, measures the error against
/// fp64 (merge/exact_merge.hpp, computed on the device) and accumulates an Accuracy, so that a
/// benchmark can verify every row of many calls without copying them to the host.
/// Host-compilable; the kernels are in merge_checker.cu.
///
/// Agreement with the host checker: the counts, the maxima's inputs and the first difference
/// are the same (first = lowest (entry, element) of the first enqueue that had a difference,
/// lse_out after its row's elements, as on the host); ulp sums are accumulated with atomics in
/// any order and fp64 exp/log may differ from the host's libm in the last bits, so ulp_max,
/// ulp_sum and their lse twins agree to about 1e-12 relative, not bit for bit.

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/accuracy.hpp"
#include "core/cuda_raii.hpp"
#include "merge/merge_shape.hpp"

namespace dcp::merge {

class DeviceMergeChecker {
 public:
  /// Allocates and zeroes the device accumulator (CudaError on failure).
  DeviceMergeChecker();

  /// Enqueues the check of rank `dst`'s outputs out [E, D] and lse_out [E] (device memory)
  /// against input set `call` of the reduce pattern with `seed`. Two launches: the check and a
  /// one-thread kernel that records the first difference. Checks the launches (CudaError).
  void enqueue(const MergeShape& shape, std::uint64_t seed, std::uint32_t call, int dst,
               const std::uint16_t* out, const float* lse_out, cudaStream_t stream);

  /// Copies the accumulated record to the host and resets the accumulator. The caller has
  /// synchronised every stream passed to enqueue().
  Accuracy collect();

 private:
  DeviceMemory acc_;  ///< one detail CheckAccumulator (merge_checker.cu)
};

}  // namespace dcp::merge
