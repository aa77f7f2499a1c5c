#pragma once
/// @file
/// The crossover the `native-auto` strategy reads: per (operation, cp, head_dim), the entry count E
/// from which the direct-store strategy (`native-direct`) is faster than the LL128 one (`native`)
/// on this machine. Derived from a run report that measured both (`dcpbench crossover REPORT.json`)
/// and kept in a small text file (configs/crossover.txt), one rule per line:
///
///     # any comment (the source: GPU, date, report)
///     reduce 2 512 4096    <op> <cp> <head_dim> <direct from E>; "never" = LL128 at every E
///
/// CUDA-free (host-only builds and CI test it).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/types.hpp"

namespace dcp::kernels {

/// Sentinel of direct_from_entries: the direct strategy was never faster.
inline constexpr std::int64_t kDirectNever = INT64_MAX;

struct CrossoverRule {
  Op op = Op::kReduce;
  int cp_size = 0;
  int head_dim = 0;
  std::int64_t direct_from_entries = kDirectNever;  ///< E >= this: direct stores

  friend bool operator==(const CrossoverRule&, const CrossoverRule&) = default;
};

struct Crossover {
  std::string source;  ///< where the rules came from (the file's comments, or "none")
  std::vector<CrossoverRule> rules;

  friend bool operator==(const Crossover&, const Crossover&) = default;
};

/// The rule of (op, cp, head_dim), or nullopt when the crossover has none.
std::optional<CrossoverRule> rule_for(const Crossover& x, Op op, int cp_size, int head_dim);

/// What native-auto runs for (op, cp, head_dim, E): true = native-direct, false = native (LL128).
/// Without a rule for (op, cp, head_dim): LL128.
bool picks_direct(const Crossover& x, Op op, int cp_size, int head_dim, std::int64_t entries);

/// The file's text (throws ConfigError naming the line and the accepted form on bad input).
Crossover parse_crossover(std::string_view text, std::string_view origin);
std::string format_crossover(const Crossover& x);

/// Derives the rules from measured results: for each (op, cp, head_dim) with graph-mode rows of
/// both `ll128` and `direct` (status ok), the smallest E from which `direct` has the lower p50 at
/// that E and at every larger E measured; kDirectNever when it never does. Other launch modes and
/// impls are ignored. `source` goes into the result.
Crossover derive_crossover(const std::vector<CaseResult>& results, std::string_view ll128,
                           std::string_view direct, std::string source);

}  // namespace dcp::kernels
