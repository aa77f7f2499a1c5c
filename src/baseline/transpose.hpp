#pragma once
/// @file
/// Row index math of the NCCL baselines' data path, shared by the CUDA kernels and the host
/// simulation tests. CUDA-free and host-compilable.
///
/// Each tensor of a rank is a grid of rows: [E, cp, X] with row (e, p) at index e*cp + p and X
/// elements per row. An NCCL all-to-all with `count` elements per peer sends chunk j of the send
/// buffer (elements [j*count, (j+1)*count)) to rank j, and stores the chunk received from rank i
/// at chunk i of the receive buffer. The DCP exchange (dcp-a2a-spec.md §1.3) wants
///     out_r[e, i, :] = in_i[e, r, :]
/// i.e. rank i's rows (·, r) for all e go to rank r. Those rows are contiguous only when E == 1,
/// so for E > 1 the data path is
///     pack     send[p, e] = in[e, p]       [E, cp, X] -> [cp, E, X]: chunk p = E rows for peer p
///     a2a      recv_r[i, e] = send_i[r, e]  rank r gets chunk r of every rank i's send buffer
///     unpack   out[e, i] = recv[i, e]      [cp(src), E, X] -> [E, cp(src), X]
/// and composing the three gives out_r[e, i] = in_i[e, r]. With E == 1 (or cp == 1) both
/// permutations are the identity and the all-to-all runs on the tensors themselves. The kernels
/// are written as gathers: each destination row asks where its source row is.
///
/// The device-API exchange instead pushes every input row straight into its peer's output:
/// row (e, p) of rank r goes to rank p's output row (e, r) (push_dest_row).

#include <cstdint>

#include "core/host_device.hpp"

namespace dcp::baseline {

/// Whether the all-to-all needs the pack/unpack transposes: the rows for one peer are
/// contiguous exactly when there is a single entry or a single rank.
DCP_HOST_DEVICE inline bool needs_transpose(std::int64_t entries, int cp) {
  return entries > 1 && cp > 1;
}

/// Pack ([E, cp, X] -> [cp, E, X]): the input row that packed row `dst_row` = p*E + e copies,
/// i.e. e*cp + p. `entries` = E >= 1.
DCP_HOST_DEVICE inline std::int64_t pack_source_row(std::int64_t dst_row, std::int64_t entries,
                                                    int cp) {
  const std::int64_t p = dst_row / entries;
  const std::int64_t e = dst_row - p * entries;
  return e * cp + p;
}

/// Unpack ([cp(src), E, X] -> [E, cp(src), X]): the received row that output row `dst_row` =
/// e*cp + src copies, i.e. src*E + e. `entries` = E >= 1.
DCP_HOST_DEVICE inline std::int64_t unpack_source_row(std::int64_t dst_row, std::int64_t entries,
                                                      int cp) {
  const std::int64_t e = dst_row / cp;
  const std::int64_t src = dst_row - e * cp;
  return src * entries + e;
}

/// First row of peer `peer`'s chunk in a packed [cp, E, X] buffer (and of the chunk received
/// from rank `peer` in the receive buffer): peer*E.
DCP_HOST_DEVICE inline std::int64_t peer_chunk_first_row(int peer, std::int64_t entries) {
  return static_cast<std::int64_t>(peer) * entries;
}

/// Push (device API): input row `src_row` = e*cp + p of rank `my_rank` goes to rank p.
DCP_HOST_DEVICE inline int push_dest_rank(std::int64_t src_row, int cp) {
  return static_cast<int>(src_row % cp);
}

/// Push (device API): the output row on the destination rank that input row `src_row` = e*cp + p
/// of rank `my_rank` lands in, i.e. e*cp + my_rank.
DCP_HOST_DEVICE inline std::int64_t push_dest_row(std::int64_t src_row, int my_rank, int cp) {
  return (src_row / cp) * cp + my_rank;
}

/// Widest copy unit (16, 8, 4, 2 or 1 bytes) that divides a row of `row_bytes` bytes. Rows start
/// at multiples of the row size from 256-byte aligned tensors, so every unit is aligned.
DCP_HOST_DEVICE inline int copy_unit_bytes(std::int64_t row_bytes) {
  for (int unit = 16; unit > 1; unit /= 2) {
    if (row_bytes % unit == 0) return unit;
  }
  return 1;
}

}  // namespace dcp::baseline
