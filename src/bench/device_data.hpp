#pragma once
/// @file
/// Device-side data for verified exchanges: fill inputs from core/pattern.hpp, poison outputs,
/// and check outputs bit by bit on the GPU (the host twin is core/verify.hpp). Checking on the
/// device lets `--stress` check every row of millions of calls without copying them to the host.

#include <cstdint>

#include "core/cuda_raii.hpp"
#include "core/impl.hpp"
#include "core/shape.hpp"
#include "core/verify.hpp"

namespace dcp::bench {

/// Writes rank `src`'s inputs for input set `call` ([E, cp, D] and [E, cp, S]).
void fill_inputs_device(const ExchangeShape& shape, std::uint64_t seed, std::uint32_t call, int src,
                        void* in_o, void* in_stats, StreamHandle stream);

/// Writes the poison pattern (all bits set: a NaN no input ever takes) into rank outputs.
void poison_outputs_device(const ExchangeShape& shape, void* out_o, void* out_stats,
                           StreamHandle stream);

/// Enqueues an empty kernel (the launch floor).
void launch_empty_kernel(StreamHandle stream);

/// Accumulates device-side checks of outputs; read back with collect().
class DeviceVerifier {
 public:
  DeviceVerifier();

  /// Enqueues the check of rank `dst`'s outputs against input set `call`. `check_stats` = false
  /// skips softmax_stats.
  void enqueue(const ExchangeShape& shape, std::uint64_t seed, std::uint32_t call, int dst,
               const void* out_o, const void* out_stats, bool check_stats, StreamHandle stream);

  /// Copies the accumulated outcome to the host (the caller has synchronised every stream used
  /// by enqueue) and resets the accumulator.
  VerifyOutcome collect();

 private:
  DeviceMemory acc_;  ///< one detail::VerifyAccumulator
  std::uint64_t calls_ = 0;
};

}  // namespace dcp::bench
