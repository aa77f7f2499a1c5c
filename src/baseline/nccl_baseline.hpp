#pragma once
/// @file
/// The NCCL baselines' entry points for the CLI's implementation registry.
///
///   auto ctx = dcp::baseline::make_nccl_context(world);      // once per job, on every rank
///   auto impl = dcp::baseline::make_nccl_alltoall("nccl-2x", ctx);
///
/// The context creates the NCCL communicator lazily, on the first setup() of any NCCL impl (or
/// nccl-device's first unsupported_reason()), and shares it across cases and impls. Destroy the
/// impls and the context before the World (they finalize the communicator), in the same order on
/// every rank. Versions for the run context: loaded_nccl_version(), compiled_nccl_version(),
/// nccl_version_warning() (baseline/nccl_comm.hpp).

#include <memory>
#include <string_view>

#include "baseline/nccl_comm.hpp"
#include "core/impl.hpp"

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

/// The implementation called `name`: nccl-2x, nccl-fused, nccl-device or nccl-1x
/// (core/impl_names.hpp). Throws ConfigError for any other name.
[[nodiscard]] std::unique_ptr<AllToAllImpl> make_nccl_alltoall(std::string_view name,
                                                               std::shared_ptr<NcclContext> ctx);

/// True for the names make_nccl_alltoall() accepts.
[[nodiscard]] bool is_nccl_impl(std::string_view name);

}  // namespace dcp::baseline
