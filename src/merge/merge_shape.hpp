#pragma once
/// @file
/// MergeShape: the geometry of one rank's merge, as plain data shared by host and device.
///
/// Inputs as an exchange delivers them to destination rank d: recv_o [E, cp, D] (row (e, s) =
/// source s's partial output for entry e, bf16 or fp16) and recv_lse [E, cp] fp32 (or element 0
/// of each row of a [E, cp, S] stats tensor: an LSE stride of S). Outputs: out [E, D] (same
/// element type) and lse_out [E] fp32. C++17, host-compilable.

#include <cstdint>

#include "core/host_device.hpp"
#include "merge/merge_routine.hpp"

namespace dcp::merge {

struct MergeShape {
  int cp = 1;                  ///< sources (ranks of the DCP group), 1..kMaxCp
  std::int64_t entries = 0;    ///< E = tokens x heads per rank
  int head_dim = 0;            ///< D, elements per row
  bool fp16 = false;           ///< element type: fp16 (true) or bf16 (false)
  LseBase base = LseBase::kE;  ///< base of the LSEs and of lse_out

  /// Elements of recv_o: E x cp x D.
  DCP_HOST_DEVICE std::int64_t recv_o_elements() const { return entries * cp * head_dim; }
  /// Elements of out: E x D.
  DCP_HOST_DEVICE std::int64_t out_elements() const { return entries * head_dim; }
};

}  // namespace dcp::merge
