#pragma once
/// @file
/// Crafted run reports for the report and compare tests. Everything is deterministic: the same
/// call gives the same report, byte for byte, on every machine.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace dcp::testing {

/// `n` samples spread uniformly over median·[1 − spread/2, 1 + spread/2], shuffled by a fixed
/// LCG from `seed`; their median is `median_s` (n odd or even).
std::vector<double> make_samples(double median_s, double spread, std::size_t n, std::uint32_t seed);

/// A Timing from samples: stats from core::summarize, algbw/busbw from the bandwidth model.
Timing make_timing(std::vector<double> samples, std::uint64_t bytes_per_rank, int cp);

/// Multiplies every sample by `factor` and recomputes the statistics and bandwidths.
void scale_timing(CaseResult& row, double factor);

/// The crafted BASE report: 2 ranks (H200, one host), cp=2, head_dim 128, graph launch,
/// batch 1 and 16; impls native (pdl on, ipc workspace), nccl-2x and nccl-device (skipped, with
/// reasons holding commas, quotes and a newline); 33 samples per row; one launch floor; the
/// speedups computed from the rows.
RunReport make_base_report();

/// The row of `report` with this batch and impl (throws if absent).
CaseResult& row(RunReport& report, std::int64_t batch, const std::string& impl);

// Variants of the base report, one change each (tests/golden/compare_*_new.json).
RunReport make_slower_report();     ///< native batch=16: every sample × 1.25
RunReport make_faster_report();     ///< native batch=16: every sample × 0.80
RunReport make_noisy_report();      ///< nccl-2x batch=1 (wide spread): every sample × 1.06
RunReport make_missing_report();    ///< native batch=16 row removed
RunReport make_verify_report();     ///< native batch=1 failed verification
RunReport make_env_report();        ///< same rows; driver 13.1, H100 GPUs, 2 hosts
RunReport make_unrelated_report();  ///< head_dim 512 everywhere: nothing in common

}  // namespace dcp::testing
