#pragma once
/// @file
/// Copy units of the baselines' kernels: a row of B bytes is moved in units of the widest
/// power-of-two type (16, 8, 4, 2 or 1 bytes) that divides B (transpose.hpp: copy_unit_bytes).
/// Included only by .cu files.

#include <cuda_runtime.h>

#include <cstdint>

#include "core/error.hpp"

namespace dcp::baseline::detail {

template <int kBytes>
struct UnitOf;
template <>
struct UnitOf<16> {
  using type = uint4;
};
template <>
struct UnitOf<8> {
  using type = uint2;
};
template <>
struct UnitOf<4> {
  using type = std::uint32_t;
};
template <>
struct UnitOf<2> {
  using type = std::uint16_t;
};
template <>
struct UnitOf<1> {
  using type = std::uint8_t;
};

/// A tag carrying the unit type, for generic lambdas.
template <typename U>
struct UnitTag {
  using type = U;
};

/// Calls `f(UnitTag<U>{})` with the unit type of `unit_bytes` (16, 8, 4, 2 or 1).
template <typename F>
void with_unit(int unit_bytes, F&& f) {
  switch (unit_bytes) {
    case 16:
      f(UnitTag<UnitOf<16>::type>{});
      return;
    case 8:
      f(UnitTag<UnitOf<8>::type>{});
      return;
    case 4:
      f(UnitTag<UnitOf<4>::type>{});
      return;
    case 2:
      f(UnitTag<UnitOf<2>::type>{});
      return;
    case 1:
      f(UnitTag<UnitOf<1>::type>{});
      return;
    default:
      throw Error("internal: copy unit of " + std::to_string(unit_bytes) + " bytes");
  }
}

}  // namespace dcp::baseline::detail
