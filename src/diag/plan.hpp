#pragma once
/// @file
/// What `dcpbench diag` was asked to run and how big its probes are (pure; the CLI validates the
/// plan before MPI starts, the groups read it through their Context).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/limits.hpp"

namespace dcp::bench {
class ImplProvider;
}

namespace dcp::diag {

/// Lines the ll128_order probe writes per layout and ordered pair: 10^7 by default, 10^6 with
/// --quick; `--ll128-lines N` overrides both.
inline constexpr std::uint64_t kLl128DefaultLines = 10'000'000;
inline constexpr std::uint64_t kLl128QuickLines = 1'000'000;
/// The accepted range of --ll128-lines (it is rounded up to a multiple of 4: one warp store
/// writes 4 lines).
inline constexpr std::uint64_t kLl128MinLines = 1;
inline constexpr std::uint64_t kLl128MaxLines = 1'000'000'000'000;

/// What to run (validated by the CLI before MPI starts).
struct DiagPlan {
  std::vector<std::string> groups;           ///< from parse_check_groups, in run order
  bool quick = false;                        ///< smaller copies, fewer rounds: a few seconds in all
  double timeout_s = kDefaultTimeoutS;       ///< bound on every wait
  std::optional<std::uint64_t> ll128_lines;  ///< --ll128-lines; unset = by --quick
};

/// What diag cannot find itself: the NCCL versions come from baseline/, and the implementation
/// the smoke test runs from the registry, both through the CLI (diag links neither kernels/ nor
/// baseline/).
struct DiagEnvironment {
  std::string nccl_loaded;               ///< ncclGetVersion of the loaded library, e.g. "2.28.9"
  std::string nccl_compiled;             ///< the headers the binary was built against
  std::string nccl_warning;              ///< non-empty when the two differ (what breaks)
  bench::ImplProvider* impls = nullptr;  ///< makes the smoke test's implementation
  std::string smoke_impl;                ///< its name in impls->catalog(); empty: smoke skips
};

/// Sizes of the probes for a plan.
struct ProbeSizes {
  int latency_warmup = 0;
  int latency_rounds = 0;
  std::size_t copy_bytes = 0;
  int copy_warmup = 0;
  int copy_reps = 0;
  int smoke_iters = 0;
  std::uint64_t ll128_lines = 0;  ///< per layout and ordered pair, a multiple of 4
};

/// Full: 10,000 ping-pong rounds, 256 MiB x 10 copies, 20 exchanges, 10^7 LL128 lines; quick:
/// 1,000 rounds, 32 MiB x 5 copies, 5 exchanges, 10^6 lines. `ll128_lines` overrides the lines
/// (rounded up to a multiple of 4).
ProbeSizes probe_sizes(bool quick, std::optional<std::uint64_t> ll128_lines = std::nullopt);

}  // namespace dcp::diag
