#pragma once
/// @file
/// The staged scheme's CTA split as the kernels compute it (host-device): the device twin of
/// direct::staged_cta_blocks (direct_protocol.hpp, host-only), checked equal to it by
/// tests/unit/kernels/direct_kernel_host_test.cpp. C++17, no CUDA headers.

#include <cstdint>

#include "core/host_device.hpp"
#include "kernels/direct_layout.hpp"
#include "kernels/fused_plan.hpp"

namespace dcp::kernels {

/// Blocks of CTA `cta` of `ctas` (>= 1) in the staged write and wait+deliver launches: an even
/// split; the first blocks % ctas CTAs take one more.
DCP_HOST_DEVICE constexpr fused::Range staged_blocks(const direct::Layout& l, std::uint32_t cta,
                                                     std::uint32_t ctas) {
  const std::uint32_t q = l.blocks / ctas;
  const std::uint32_t r = l.blocks % ctas;
  return fused::Range{q * cta + (cta < r ? cta : r), q + (cta < r ? 1u : 0u)};
}

}  // namespace dcp::kernels
