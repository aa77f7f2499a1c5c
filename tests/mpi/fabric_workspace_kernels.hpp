#pragma once
/// @file
/// Tiny kernels for the cross-process workspace tests: write a rank's signature into a segment,
/// and count the words of a segment that differ from a rank's signature (or from zero).

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "core/host_device.hpp"

namespace dcp::test {

/// The 64-bit word rank `rank` writes at word index `i` of its segment (never 0).
DCP_HOST_DEVICE inline std::uint64_t signature_word(int rank, std::size_t i) {
  return (static_cast<std::uint64_t>(rank + 1) << 56) ^
         (static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ULL) ^ 0x5A5AULL;
}

/// Fills `words` 64-bit words at `segment` with signature_word(rank, i) on `stream`.
void write_signature(void* segment, std::size_t words, int rank, cudaStream_t stream);

/// Counts words at `segment` that differ from signature_word(rank, i), or from 0 when
/// rank < 0; synchronises `stream` and returns the count.
unsigned long long count_mismatches(const void* segment, std::size_t words, int rank,
                                    cudaStream_t stream);

}  // namespace dcp::test
