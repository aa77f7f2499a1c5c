#pragma once
/// @file
/// The registry rows of the NCCL baselines (core/impl_info.hpp), their names, and the NCCL
/// versions they need. cli/registry.cpp concatenates every layer's rows.
///
/// The baselines of one job share one NcclContext (the communicator, created lazily on first
/// use): it lives in the ImplEnv under kNcclContextKey, made from the env's World on first use.
/// A single-process test may store its own context there first (nccl_context()'s `make`).

#include <memory>
#include <span>
#include <string_view>

#include "core/impl_info.hpp"

namespace dcp::baseline {

class NcclContext;

inline constexpr std::string_view kNccl2xName = "nccl-2x";
inline constexpr std::string_view kNcclFusedName = "nccl-fused";
inline constexpr std::string_view kNcclDeviceName = "nccl-device";
inline constexpr std::string_view kNccl1xName = "nccl-1x";
inline constexpr std::string_view kNcclPackedName = "nccl-packed";
inline constexpr std::string_view kNcclAgRsName = "nccl-ag-rs";

/// Oldest NCCL the host-API baselines run on: ncclCommInitRankConfig with a non-blocking config.
inline constexpr LibVersion kHostApiMinNccl{2, 14, 0};
/// Oldest NCCL library and headers whose device API nccl-device runs on: 2.28.3 crashed in
/// device-API kernels (shared/docs/environment.md).
inline constexpr LibVersion kDeviceApiMinNccl{2, 28, 9};

/// Where the shared NcclContext lives in an ImplEnv.
inline constexpr std::string_view kNcclContextKey = "baseline/nccl-context";

/// The job's NcclContext: the one in `env`, or a new one over env.world() (EnvironmentError
/// without a World).
std::shared_ptr<NcclContext> nccl_context(ImplEnv& env);

/// The rows of this layer, in the order --help lists them.
std::span<const ImplInfo> nccl_impls();

}  // namespace dcp::baseline
