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

/// A row without a factory: every launch mode; exact unless `ulp_bound` is given.
constexpr ImplInfo metadata_row(std::string_view name, bool pdl_and_workspace, bool moves_stats,
                                ImplNeeds needs, std::string_view speedups_against,
                                bool in_default_sweep, OpSet ops = {Op::kExchange},
                                int ulp_bound = 0) {
  return ImplInfo{.name = name,
                  .summary = "(metadata only)",
                  .ops = ops,
                  .launches = kAllLaunches,
                  .traits = {.uses_pdl = pdl_and_workspace,
                             .uses_workspace = pdl_and_workspace,
                             .moves_stats = moves_stats,
                             .exact = ulp_bound == 0,
                             .ulp_bound = ulp_bound},
                  .needs = needs,
                  .speedups_against = speedups_against,
                  .in_default_sweep = in_default_sweep,
                  .make = nullptr};
}

constexpr ImplNeeds needs(bool one_gpu_per_rank, LibVersion min_nccl, bool peer_load_store) {
  return ImplNeeds{.one_gpu_per_rank = one_gpu_per_rank,
                   .min_world = 1,
                   .min_nccl = min_nccl,
                   .peer_load_store = peer_load_store};
}

/// A direct-store row (native-direct, direct-staged): both operations, a workspace but no PDL,
/// not in the default sweep.
constexpr ImplInfo direct_metadata_row(std::string_view name, std::string_view speedups_against) {
  ImplInfo r = metadata_row(name, false, true, needs(false, {}, true), speedups_against, true);
  r.ops = {Op::kExchange, Op::kReduce};
  r.traits.uses_workspace = true;
  return r;
}

/// native-auto: the direct row's traits, not a default row.
constexpr ImplInfo auto_metadata_row() {
  ImplInfo r = direct_metadata_row("native-auto", "");
  r.in_default_sweep = false;
  return r;
}

inline constexpr std::array kMetadataRows{
    metadata_row("native", true, true, needs(false, {}, true), "*", true,
                 {Op::kExchange, Op::kReduce}),
    metadata_row("native-fused", true, true, needs(false, {}, true), "*", true, {Op::kReduce}),
    direct_metadata_row("native-direct", "*"),
    direct_metadata_row("direct-staged", ""),
    auto_metadata_row(),
    metadata_row("nccl-2x", false, true, needs(true, {2, 14, 0}, false), "", true,
                 {Op::kExchange, Op::kReduce}),
    metadata_row("nccl-fused", false, true, needs(true, {2, 14, 0}, false), "", true),
    metadata_row("nccl-device", false, true, needs(true, {2, 28, 9}, true), "", true),
    metadata_row("nccl-1x", false, false, needs(true, {2, 14, 0}, false), "", false),
    metadata_row("nccl-packed", false, true, needs(true, {2, 14, 0}, false), "", true,
                 {Op::kExchange, Op::kReduce}),
    metadata_row("nccl-ag-rs", false, true, needs(true, {2, 14, 0}, false), "", true, {Op::kReduce},
                 2),
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
