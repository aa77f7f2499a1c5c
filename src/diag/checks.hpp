#pragma once
/// @file
/// `dcpbench diag`'s entry points for the CLI (full builds): pick the GPU, then run the selected
/// check groups (groups.hpp) in order. Each group measures facts on every rank, gathers them,
/// and turns them into DiagCheck rows with its pure rule, so every rank ends with the same rows
/// and exit code. Collective: every rank calls run_checks with the same plan.
///
/// Bounds: device-side spins stop at `timeout_s` (a dead link is a FAIL row), host waits on the
/// GPU and MPI collectives throw TimeoutError after `timeout_s` (+ a small margin for the GPU),
/// which stops diag with exit code 3.

#include "core/diag_result.hpp"
#include "core/world.hpp"
#include "diag/context.hpp"
#include "diag/plan.hpp"

namespace dcp::diag {

/// Picks and makes current this rank's GPU: device local_rank % visible devices. Unlike `run`,
/// more ranks than GPUs on a host is not an error here: the mapping check reports two ranks on
/// one GPU (by UUID) as a FAIL naming them. CUDA error 802 (cudaErrorSystemNotReady: the Fabric
/// Manager has not brought the GPUs up) is returned, not thrown, so diag can report it with
/// everything it can still see. No CUDA device at all throws EnvironmentError (exit 3), unless
/// `gpu_needed` is false (no selected group needs a GPU: e.g. `--checks driver,nccl,shm` on a
/// machine without one), when it is returned too.
DiagDevice select_diag_device(const World& world, bool gpu_needed = true);

/// Runs `plan` (collective). Returns the rows, matrices, options and summary; the caller fills
/// the run context. Groups that need a GPU are not run (one SKIP row each) when CUDA did not
/// start on some rank.
DiagReport run_checks(const DiagPlan& plan, World& world, const DiagDevice& device,
                      const DiagEnvironment& env);

}  // namespace dcp::diag
