#pragma once
/// @file
/// Check group `bandwidth`: the copy-bandwidth matrix, copy engine from the source rank's GPU
/// into the destination rank's buffer, every ordered pair. Facts in bytes and seconds; the
/// printers scale. Run: groups/bandwidth_run.cpp.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kBandwidthGroup{
    "bandwidth", "copy bandwidth matrix: copy engine into the peer's buffer, every ordered pair",
    true};

/// Cross-GPU copy bandwidth below this is a WARN (NVLink 4 pairs reach ~400 GB/s; PCIe 5 x16
/// reaches ~50 GB/s).
inline constexpr double kBandwidthWarnBps = 100e9;

/// Copy bandwidth from `from`'s GPU into `to`'s buffer; from == to is the device-local copy.
struct BandwidthFacts {
  int from = 0;
  int to = 0;
  bool ran = false;
  std::string skip_reason;
  std::uint64_t bytes = 0;  ///< per copy
  int reps = 0;             ///< timed copies
  double seconds = 0;       ///< for all timed copies
  double Bps = 0;
  std::string error;

  friend bool operator==(const BandwidthFacts&, const BandwidthFacts&) = default;
};

std::string encode(const std::vector<BandwidthFacts>& f);
void decode(std::string_view text, std::vector<BandwidthFacts>& out);

/// One "copy_bandwidth" row per ordered pair, the self rows on a single rank; FAIL on an error,
/// WARN below kBandwidthWarnBps across GPUs.
std::vector<DiagCheck> bandwidth_checks(const std::vector<RankFacts>& ranks,
                                        const std::vector<BandwidthFacts>& facts);
/// The copy-bandwidth matrix (bytes/s; the diagonal holds the device-local copies).
DiagMatrix bandwidth_matrix(int world_size, const std::vector<BandwidthFacts>& facts,
                            std::string_view method);

}  // namespace dcp::diag
