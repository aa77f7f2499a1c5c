#pragma once
/// @file
/// The packed-row layout of nccl-packed: each row travels with its stats in ONE all-to-all
/// message per peer, as vLLM's and SGLang's `a2a` DCP backends send a row with its LSE.
///
/// A packed row is P 16-bit units: the row's D elements at [0, D), its S fp32 stats (op reduce:
/// S = 1, the LSE) as 2 S units from stats_offset = D rounded up to even (4-byte aligned), and
/// zero padding up to P = a multiple of 8 units (16 bytes), so that every row starts 16-byte
/// aligned and the merge kernel's 16-byte loads read it in place. Send and receive buffers are
/// [cp, E, P]: chunk p (contiguous, E rows) goes to / came from rank p.
///   pack:   send[p][e] = (in_o[e, p, :], in_stats[e, p, :], 0...)
///   unpack: out_o[e, s, :] = recv[s][e][0, D), out_stats[e, s, :] = recv[s][e][stats_offset..)
/// For op reduce the merge reads recv in place (merge_strides()), without an unpack.
/// Bytes on the wire: P x 2 per row instead of 2 D + 4 S: 12 bytes of padding per row at D = 512
/// (1.2 %), the price of aligned rows.
///
/// C++17 and host-compilable: the kernels (packed_kernels.cu) and CPU tests use the same index
/// math.

#include <cstdint>

#include "core/host_device.hpp"
#include "merge/merge_shape.hpp"

namespace dcp::baseline {

struct PackedLayout {
  std::int64_t entries = 0;  ///< E
  int cp = 1;                ///< ranks
  int head_dim = 0;          ///< D, 16-bit elements per row
  int stats_dim = 1;         ///< S, fp32 values per row (1 for op reduce)

  /// First unit of the stats: D rounded up to even.
  DCP_HOST_DEVICE constexpr int stats_offset() const { return (head_dim + 1) / 2 * 2; }
  /// Units per packed row: stats_offset + 2 S, rounded up to a multiple of 8.
  DCP_HOST_DEVICE constexpr int row_units() const {
    return (stats_offset() + 2 * stats_dim + 7) / 8 * 8;
  }
  /// Bytes per packed row.
  DCP_HOST_DEVICE constexpr std::int64_t row_bytes() const { return std::int64_t{row_units()} * 2; }
  /// Units of one [cp, E, P] buffer.
  DCP_HOST_DEVICE constexpr std::int64_t units() const {
    return std::int64_t{cp} * entries * row_units();
  }
  /// Units one peer gets (E rows).
  DCP_HOST_DEVICE constexpr std::int64_t peer_units() const { return entries * row_units(); }
  /// Row index of (peer p, entry e) in a [cp, E, P] buffer.
  DCP_HOST_DEVICE constexpr std::int64_t row(int p, std::int64_t e) const {
    return std::int64_t{p} * entries + e;
  }

  /// Where the merge finds (e, s) in a received [cp, E, P] buffer: rows in units of recv, LSEs in
  /// floats from recv + stats_offset() (as float*). Needs stats_dim == 1.
  constexpr merge::MergeStrides merge_strides() const {
    const std::int64_t p = row_units();
    return merge::MergeStrides{p, entries * p, p / 2, entries * p / 2};
  }
};

/// What unit `u` of a packed send buffer holds: unit k of input row (e, p), where k < D is
/// element k of in_o and D <= k is the stats' unit k - stats_offset (or padding).
struct PackedUnit {
  std::int64_t in_row = 0;  ///< e * cp + p: the input row ([E, cp, X] tensors)
  int k = 0;                ///< unit within the packed row
};

DCP_HOST_DEVICE constexpr PackedUnit packed_unit(const PackedLayout& l, std::int64_t u) {
  const int pu = l.row_units();
  const std::int64_t r = u / pu;  // = p * E + e
  const std::int64_t p = r / l.entries;
  const std::int64_t e = r - p * l.entries;
  return PackedUnit{e * l.cp + p, static_cast<int>(u - r * pu)};
}

/// Unit k of a packed row from input row `in_row`: an element of in_o, a 16-bit half of a stats
/// value (little-endian: the low half first, as the bytes lie in memory), or 0 (padding).
DCP_HOST_DEVICE inline std::uint16_t packed_value(const PackedLayout& l, std::int64_t in_row, int k,
                                                  const std::uint16_t* in_o,
                                                  const std::uint16_t* in_stats_units) {
  if (k < l.head_dim) return in_o[in_row * l.head_dim + k];
  const int j = k - l.stats_offset();
  if (j >= 0 && j < 2 * l.stats_dim) return in_stats_units[in_row * 2 * l.stats_dim + j];
  return 0;
}

/// The inverse for op exchange: output unit `u` of out_o ([E, cp, D], row (e, s)) or, for
/// u >= E cp D, unit u - E cp D of out_stats ([E, cp, S] as 16-bit units) comes from this unit of
/// the received [cp, E, P] buffer.
DCP_HOST_DEVICE constexpr std::int64_t unpacked_source(const PackedLayout& l, std::int64_t u) {
  const std::int64_t o_units = l.entries * l.cp * l.head_dim;
  const bool is_o = u < o_units;
  const std::int64_t v = is_o ? u : u - o_units;
  const int width = is_o ? l.head_dim : 2 * l.stats_dim;
  const std::int64_t out_row = v / width;  // e * cp + s
  const int k = static_cast<int>(v - out_row * width);
  const std::int64_t e = out_row / l.cp;
  const int s = static_cast<int>(out_row - e * l.cp);
  return l.row(s, e) * l.row_units() + (is_o ? k : l.stats_offset() + k);
}

/// Units of out_o plus out_stats (the unpack's work).
DCP_HOST_DEVICE constexpr std::int64_t unpacked_units(const PackedLayout& l) {
  return l.entries * l.cp * (l.head_dim + 2 * l.stats_dim);
}

}  // namespace dcp::baseline
