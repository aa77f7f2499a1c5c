#pragma once
/// @file
/// The checks of `dcpbench diag`: each group measures facts on every rank, gathers them, and
/// turns them into DiagCheck rows with the pure rules of verdict.hpp, so every rank ends with
/// the same rows and exit code. Collective: every rank calls run_checks with the same plan.
///
/// Bounds: device-side spins stop at `timeout_s` (a dead link is a FAIL row), host waits on the
/// GPU and MPI collectives throw TimeoutError after `timeout_s` (+ a small margin for the GPU),
/// which stops diag with exit code 3.

#include <string>
#include <vector>

#include "bench/runner.hpp"
#include "core/diag_result.hpp"
#include "core/limits.hpp"
#include "core/world.hpp"

namespace dcp::diag {

/// What to run (validated by the CLI before MPI starts).
struct DiagPlan {
  std::vector<std::string> groups;      ///< from parse_check_groups, in run order
  bool quick = false;                   ///< smaller copies, fewer rounds: a few seconds in all
  double timeout_s = kDefaultTimeoutS;  ///< bound on every wait
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
};
/// Full: 10,000 ping-pong rounds, 256 MiB x 10 copies, 20 exchanges; quick: 1,000 rounds,
/// 32 MiB x 5 copies, 5 exchanges.
ProbeSizes probe_sizes(bool quick);

/// Picks and makes current this rank's GPU: device local_rank % visible devices. Unlike `run`,
/// more ranks than GPUs on a host is not an error here: the mapping check reports two ranks on
/// one GPU (by UUID) as a FAIL naming them. Throws EnvironmentError without any CUDA device.
int select_diag_device(const World& world);

/// Runs `plan` on `device` (collective). Returns the rows, matrices, options and summary; the
/// caller fills the run context.
DiagReport run_checks(const DiagPlan& plan, const World& world, int device,
                      const DiagEnvironment& env);

}  // namespace dcp::diag
