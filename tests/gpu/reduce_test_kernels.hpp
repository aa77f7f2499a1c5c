#pragma once
// A fault for the runner's reduce tests: flips the lowest mantissa bit of every element (an
// error of at most one output-type ulp, of the element and hence of the terms' magnitude).
#include <cstdint>

#include "core/impl.hpp"

namespace dcp::testing {

/// out[i] ^= 1 for i < n, on `stream`. Checks the launch.
void flip_lowest_bits(std::uint16_t* out, std::int64_t n, StreamHandle stream);

}  // namespace dcp::testing
