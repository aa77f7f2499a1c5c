#pragma once
/// @file
/// Plain result records, in SI units. Measurement code fills them and never prints; printers in
/// report/ consume them (table, JSON, CSV) and `compare` reads them back.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/accuracy.hpp"
#include "core/case.hpp"
#include "core/hang_report.hpp"
#include "core/impl_info.hpp"
#include "core/rank_info.hpp"
#include "core/stats.hpp"
#include "core/sweep.hpp"
#include "core/verify.hpp"

namespace dcp {

/// Everything about the run that is not a measurement.
struct RunContext {
  std::string tool_version;
  std::string git_sha;
  std::string build_type;
  std::vector<std::string> argv;
  std::string utc_time;  ///< ISO 8601, e.g. "2026-11-24T23:19:47Z"
  int world_size = 1;
  std::vector<std::string> hosts;     ///< distinct host names, in rank order of first appearance
  std::vector<RankInfo> ranks;        ///< one per rank
  std::string nccl_compiled_version;  ///< NCCL headers the binary was built against
  std::string topology;               ///< short summary, e.g. "1 host x 2 GPUs, NVLink peer access"
  std::vector<std::string> notes;     ///< run-level remarks (e.g. "single rank: simulating cp=2,4")

  friend bool operator==(const RunContext&, const RunContext&) = default;
};

/// Outcome of one (case, impl).
enum class CaseStatus {
  kOk,            ///< measured, every verified output bit-exact
  kVerifyFailed,  ///< measured, but some output differed from the expected pattern
  kSkipped,       ///< the impl cannot run this case here (skip_reason says why)
  kError,         ///< the run failed (timeout, CUDA/NCCL error); error says what
};

std::string_view to_string(CaseStatus s);
std::optional<CaseStatus> parse_case_status(std::string_view s);

/// Timing of one (case, impl): per-iteration samples, max over ranks, per exchange.
struct Timing {
  std::vector<double> samples_s;  ///< one per timed iteration, seconds per exchange
  SampleStats stats;              ///< summary of samples_s (seconds)
  double alg_bw_Bps = 0;          ///< bytes_per_rank / median
  double bus_bw_Bps = 0;          ///< alltoall bus bandwidth from alg_bw_Bps

  friend bool operator==(const Timing&, const Timing&) = default;
};

/// One part of a multi-kernel strategy (e.g. "exchange", "merge"), timed alone the same way as
/// the whole, in the same run.
struct PartTiming {
  std::string name;
  Timing timing;

  friend bool operator==(const PartTiming&, const PartTiming&) = default;
};

struct CaseResult {
  Case c;
  std::string impl;
  CaseStatus status = CaseStatus::kOk;
  std::string skip_reason;            ///< set when kSkipped
  std::string error;                  ///< set when kError
  std::optional<Timing> timing;       ///< absent when skipped, errored or in stress-only mode
  VerifyOutcome verify;               ///< over every verified call of this case, all ranks
  std::uint64_t bytes_per_rank = 0;   ///< Case::bytes_per_rank (the nccl-tests "size")
  std::uint64_t workspace_bytes = 0;  ///< per-rank workspace of the impl, 0 if none
  std::string detail;                 ///< impl detail worth keeping (channels, NCCL path, ...)
  /// Op reduce: the merged outputs against the CPU reference (bits) and fp64 (ulps), over every
  /// verified call and rank. Absent for the exchange, whose check is `verify`.
  std::optional<Accuracy> accuracy;
  /// Strategies made of several launches: each part timed alone, same method, same run.
  std::vector<PartTiming> parts;
  /// A device-side timeout ended this case: the state of the exchange's FIFOs read after it.
  std::optional<HangReport> hang;

  friend bool operator==(const CaseResult&, const CaseResult&) = default;
};

/// The launch floor: an empty kernel timed exactly as the exchanges are, in the same run.
struct LaunchFloor {
  LaunchMode launch = LaunchMode::kEager;
  int cp_size = 1;  ///< simulated ranks launched per iteration (1 per process outside sim)
  Timing timing;
  friend bool operator==(const LaunchFloor&, const LaunchFloor&) = default;
};

/// One implementation over a baseline on the same exchange (same Case::exchange_key()); which
/// implementations pair up is the registry's word (ImplInfo::speedups_against).
struct Speedup {
  std::string exchange_key;
  std::string impl;      ///< the implementation whose speedup this is
  std::string impl_key;  ///< its row's full key (with pdl/workspace)
  std::string baseline_impl;
  Ratio speedup;  ///< baseline median / impl median, with its interval

  friend bool operator==(const Speedup&, const Speedup&) = default;
};

/// A whole `run`.
struct RunReport {
  RunContext context;
  SweepSpec spec;                   ///< the configuration after flags and defaults
  std::vector<CaseResult> results;  ///< in expansion order
  std::vector<LaunchFloor> launch_floors;
  std::vector<Speedup> speedups;

  friend bool operator==(const RunReport&, const RunReport&) = default;
};

/// Speedups of every row whose registry row declares speedups_against, over each baseline it
/// names, pairing rows with equal exchange_key (both ok and timed); pure. Rows of
/// implementations `catalog` does not know pair with nothing.
std::vector<Speedup> compute_speedups(const std::vector<CaseResult>& results,
                                      const ImplCatalog& catalog);

}  // namespace dcp
