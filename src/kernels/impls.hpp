#pragma once
/// @file
/// The registry rows of the native strategies (core/impl_info.hpp). cli/registry.cpp
/// concatenates every layer's rows; a new native strategy is one more row here plus its own
/// files.

#include <span>
#include <string_view>

#include "core/impl_info.hpp"

namespace dcp::kernels {

/// The fused LL128 exchange (NativeAllToAll); op reduce: the exchange, then the merge kernel
/// (NativeStrategy).
inline constexpr std::string_view kNativeName = "native";

/// The fused LL128 exchange+merge in one kernel (NativeFused), --op reduce only.
inline constexpr std::string_view kNativeFusedName = "native-fused";
/// The fused direct-store exchange (+ merge): NativeDirect, DirectScheme::kFused.
inline constexpr std::string_view kNativeDirectName = "native-direct";
/// vLLM's four-launch direct path on dcpbench's workspace: NativeDirect, DirectScheme::kStaged.
inline constexpr std::string_view kDirectStagedName = "direct-staged";
/// native or native-direct per case, from the measured crossover (NativeAuto).
inline constexpr std::string_view kNativeAutoName = "native-auto";

/// The rows of this layer, in the order --help lists them.
std::span<const ImplInfo> native_impls();

}  // namespace dcp::kernels
