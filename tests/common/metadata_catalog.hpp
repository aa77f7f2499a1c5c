#pragma once
/// @file
/// A catalog of the shipped implementations' rows without factories, for host-only tests and
/// fuzz targets (which build neither kernels/ nor baseline/). The full build's registry test
/// (tests/unit/cli/test_registry.cpp) checks that every row here describes the same
/// implementation as the real row, so the two cannot drift apart.

#include <array>
#include <string_view>

#include "core/impl_info.hpp"

namespace dcp::testing {

/// Traits of an exact implementation.
constexpr ImplTraits exact_traits(bool pdl, bool workspace, bool stats) {
  return ImplTraits{.uses_pdl = pdl,
                    .uses_workspace = workspace,
                    .moves_stats = stats,
                    .exact = true,
                    .ulp_bound = 0};
}

/// Needs of an NCCL baseline.
constexpr ImplNeeds nccl_needs(LibVersion min_nccl, bool load_store) {
  return ImplNeeds{.one_gpu_per_rank = true,
                   .min_world = 1,
                   .min_nccl = min_nccl,
                   .peer_load_store = load_store};
}

inline constexpr std::array kMetadataRows{
    ImplInfo{.name = "native",
             .summary = "native fused LL128 exchange (metadata only)",
             .ops = {Op::kExchange},
             .launches = kAllLaunches,
             .traits = exact_traits(true, true, true),
             .needs = {.one_gpu_per_rank = false,
                       .min_world = 1,
                       .min_nccl = {},
                       .peer_load_store = true},
             .speedups_against = "*",
             .in_default_sweep = true,
             .make = nullptr},
    ImplInfo{.name = "nccl-2x",
             .summary = "two ncclAlltoAll (metadata only)",
             .ops = {Op::kExchange},
             .launches = kAllLaunches,
             .traits = exact_traits(false, false, true),
             .needs = nccl_needs({2, 14, 0}, false),
             .speedups_against = "",
             .in_default_sweep = true,
             .make = nullptr},
    ImplInfo{.name = "nccl-fused",
             .summary = "grouped ncclSend/ncclRecv (metadata only)",
             .ops = {Op::kExchange},
             .launches = kAllLaunches,
             .traits = exact_traits(false, false, true),
             .needs = nccl_needs({2, 14, 0}, false),
             .speedups_against = "",
             .in_default_sweep = true,
             .make = nullptr},
    ImplInfo{.name = "nccl-device",
             .summary = "NCCL device API push kernel (metadata only)",
             .ops = {Op::kExchange},
             .launches = kAllLaunches,
             .traits = exact_traits(false, false, true),
             .needs = nccl_needs({2, 28, 9}, true),
             .speedups_against = "",
             .in_default_sweep = true,
             .make = nullptr},
    ImplInfo{.name = "nccl-1x",
             .summary = "one ncclAlltoAll of partial_o (metadata only)",
             .ops = {Op::kExchange},
             .launches = kAllLaunches,
             .traits = exact_traits(false, false, false),
             .needs = nccl_needs({2, 14, 0}, false),
             .speedups_against = "",
             .in_default_sweep = false,
             .make = nullptr},
};

/// A row for tests that need rows of their own: implements the exchange in every launch mode,
/// exact, no axes of its own; adjust the copy.
inline ImplInfo plain_row(std::string_view name) {
  ImplInfo r;
  r.name = name;
  r.ops = {Op::kExchange};
  r.launches = kAllLaunches;
  return r;
}

/// The catalog of kMetadataRows (static storage: runs may point at its rows).
inline const ImplCatalog& metadata_catalog() {
  static const ImplCatalog catalog{std::span<const ImplInfo>(kMetadataRows)};
  return catalog;
}

}  // namespace dcp::testing
