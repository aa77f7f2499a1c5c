#pragma once
/// @file
/// The merge geometry of an `--op reduce` case (core/case.hpp): cp sources, E = batch entries,
/// D = head_dim, the case's element type and LSE base (base e when the case names none).

#include "core/case.hpp"
#include "merge/merge_shape.hpp"

namespace dcp::merge {

/// MergeShape of case `c` (its op is not checked: an exchange case gives the shape its rows
/// would have if merged).
inline MergeShape merge_shape_of(const Case& c) {
  return MergeShape{c.cp_size, c.batch, c.head_dim, c.dtype == DType::kFp16,
                    c.lse_base.value_or(LseBase::kE)};
}

}  // namespace dcp::merge
