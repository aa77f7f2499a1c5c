#pragma once
/// @file
/// The NCCL context of a job: the state every NCCL baseline shares. The baselines themselves are
/// made from their registry rows (baseline/impls.hpp), which find the context in the ImplEnv.
///
/// The context creates the NCCL communicator lazily, on the first setup() of any NCCL impl (or
/// nccl-device's first unsupported_reason()), and shares it across cases and impls. Destroy the
/// impls and the context before the World (they finalize the communicator), in the same order on
/// every rank. Versions for the run context: loaded_nccl_version(), compiled_nccl_version(),
/// nccl_version_warning() (baseline/nccl_comm.hpp).

#include <memory>

#include "baseline/nccl_comm.hpp"

namespace dcp {
class World;
}

namespace dcp::baseline {

class NcclContext;

/// A context whose ranks are `world`'s (one GPU per rank, the current device); `world` must
/// outlive it. Creates no communicator yet, so it costs nothing when no NCCL impl runs.
[[nodiscard]] std::shared_ptr<NcclContext> make_nccl_context(const World& world);
/// A one-rank context without MPI (tests, single-GPU tools); waits are bounded by `timeout_s`.
[[nodiscard]] std::shared_ptr<NcclContext> make_single_rank_nccl_context(double timeout_s);

}  // namespace dcp::baseline
