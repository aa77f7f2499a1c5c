#pragma once
/// @file
/// Names of the exchange implementations, and which sweep axes apply to each.
///
/// The implementations themselves live above core (kernels/, baseline/) and meet only through
/// core::AllToAllImpl; this table is the vocabulary the sweep model and the reports share.

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace dcp {

inline constexpr std::string_view kImplNative = "native";
inline constexpr std::string_view kImplNccl2x = "nccl-2x";
inline constexpr std::string_view kImplNcclFused = "nccl-fused";
inline constexpr std::string_view kImplNcclDevice = "nccl-device";
inline constexpr std::string_view kImplNccl1x = "nccl-1x";

/// Every implementation name the CLI accepts.
inline constexpr std::array kAllImpls{kImplNative, kImplNccl2x, kImplNcclFused, kImplNcclDevice,
                                      kImplNccl1x};
/// The default set (nccl-1x moves partial_o only and is for cross-checks with nccl-tests).
inline constexpr std::array kDefaultImpls{kImplNative, kImplNccl2x, kImplNcclFused,
                                          kImplNcclDevice};

/// True for a name in kAllImpls.
bool is_known_impl(std::string_view name);
/// "a|b|c" of kAllImpls, for error messages.
std::string accepted_impls();
/// Whether the `pdl` axis applies (only the native kernel uses programmatic dependent launch).
bool impl_uses_pdl(std::string_view name);
/// Whether the `workspace` axis applies (only the native exchange has a workspace).
bool impl_uses_workspace(std::string_view name);
/// Whether the implementation moves only partial_o (nccl-1x), so verification skips the stats.
bool impl_moves_stats(std::string_view name);

}  // namespace dcp
