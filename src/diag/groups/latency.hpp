#pragma once
/// @file
/// Check group `latency`: the one-way flag latency matrix, a ping-pong of two single-thread
/// kernels through the mapped workspace, timed with clock64 scaled by %globaltimer. Facts in
/// seconds; the printers scale (report::display_value). Run: groups/latency_run.cpp.

#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kLatencyGroup{
    "latency",
    "one-way flag latency matrix: ping-pong of single-thread kernels through the mapped "
    "workspace, %globaltimer, p50/p99",
    true};

/// Cross-GPU one-way latency p50 above this is a WARN (NVLink is ~0.7 us; PCIe or host memory
/// paths are several us).
inline constexpr double kLatencyWarnS = 3e-6;

/// One-way flag latency between `from` (initiator) and `to`; from == to is the self measurement
/// (two streams on one GPU).
struct LatencyFacts {
  int from = 0;
  int to = 0;
  bool ran = false;
  std::string skip_reason;
  bool timed_out = false;
  int failed_round = -1;    ///< round that timed out
  std::string failed_side;  ///< "initiator" / "responder"
  int rounds = 0;           ///< measured rounds
  double p50_s = 0, p99_s = 0, mean_s = 0;
  std::string error;

  friend bool operator==(const LatencyFacts&, const LatencyFacts&) = default;
};

std::string encode(const std::vector<LatencyFacts>& f);
void decode(std::string_view text, std::vector<LatencyFacts>& out);

/// One "latency" row per measured pair (from < to) and the self rows on a single rank; FAIL on
/// a timeout, WARN above kLatencyWarnS across GPUs.
std::vector<DiagCheck> latency_checks(const std::vector<RankFacts>& ranks,
                                      const std::vector<LatencyFacts>& facts);
/// The p50 and p99 matrices (seconds; symmetric; the diagonal holds the self measurements).
std::vector<DiagMatrix> latency_matrices(int world_size, const std::vector<LatencyFacts>& facts,
                                         std::string_view method);
/// One record per pair: the initiator's, with the responder's timeout or error folded in;
/// sorted self rows first, then by (from, to).
std::vector<LatencyFacts> merge_latency(std::vector<LatencyFacts> all);

}  // namespace dcp::diag
