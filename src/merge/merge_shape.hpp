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

/// Where a merge finds its delivered inputs, in elements of recv_o and floats of recv_lse:
/// element k of source s's row of entry e is recv_o[e * o_entry + s * o_source + k], and its
/// LSE recv_lse[e * lse_entry + s * lse_source]. A strategy whose exchange delivers another
/// layout than [E, cp, D] (a [cp, E, D] receive buffer, or packed rows that carry their LSE)
/// states it here and the merge reads it in place, without an unpack.
struct MergeStrides {
  std::int64_t o_entry = 0;
  std::int64_t o_source = 0;
  std::int64_t lse_entry = 0;
  std::int64_t lse_source = 0;

  /// recv_o [E, cp, D] and the LSE of (e, s) at (e * cp + s) * lse_stride.
  static constexpr MergeStrides contiguous(int cp, int head_dim, std::int64_t lse_stride = 1) {
    return MergeStrides{std::int64_t{cp} * head_dim, head_dim, std::int64_t{cp} * lse_stride,
                        lse_stride};
  }
  /// Element offset of source s's row of entry e in recv_o.
  DCP_HOST_DEVICE constexpr std::int64_t o_row(std::int64_t e, int s) const {
    return e * o_entry + s * o_source;
  }
  /// Float offset of the LSE of (e, s) in recv_lse.
  DCP_HOST_DEVICE constexpr std::int64_t lse(std::int64_t e, int s) const {
    return e * lse_entry + s * lse_source;
  }
  friend constexpr bool operator==(const MergeStrides&, const MergeStrides&) = default;
};

}  // namespace dcp::merge
