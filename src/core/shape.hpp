#pragma once
/// @file
/// ExchangeShape: the tensor geometry of one exchange, as plain data shared by host and device.
///
/// Per rank: partial_o is [E, cp, D] (bf16/fp16), softmax_stats is [E, cp, S] (fp32), both
/// contiguous; outputs have the same shapes. Row (e, p) of an input goes to rank p, which stores
/// it as its output row (e, source rank). C++17, host-compilable.

#include <cstdint>

#include "core/host_device.hpp"

namespace dcp {

struct ExchangeShape {
  int cp_size = 1;           ///< ranks in the exchange
  std::int64_t entries = 0;  ///< E, the flattened batch
  int head_dim = 0;          ///< D, elements per partial_o row
  int stats_dim = 0;         ///< S, fp32 elements per stats row
  bool fp16 = false;         ///< partial_o element type: fp16 (true) or bf16 (false)

  /// Rows per tensor per rank: E × cp.
  DCP_HOST_DEVICE std::int64_t rows() const { return entries * cp_size; }
  /// Bytes of one partial_o row.
  DCP_HOST_DEVICE std::int64_t o_row_bytes() const { return std::int64_t{head_dim} * 2; }
  /// Bytes of one stats row.
  DCP_HOST_DEVICE std::int64_t stats_row_bytes() const { return std::int64_t{stats_dim} * 4; }
  /// Bytes of the partial_o tensor on one rank.
  DCP_HOST_DEVICE std::int64_t o_bytes() const { return rows() * o_row_bytes(); }
  /// Bytes of the softmax_stats tensor on one rank.
  DCP_HOST_DEVICE std::int64_t stats_bytes() const { return rows() * stats_row_bytes(); }
  /// Index of row (e, p) in a [E, cp, X] tensor.
  DCP_HOST_DEVICE std::int64_t row_index(std::int64_t e, int p) const { return e * cp_size + p; }
};

}  // namespace dcp
