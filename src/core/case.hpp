#pragma once
/// @file
/// Case: the fully resolved parameters of one measurement, and its stable key.

#include <cstdint>
#include <optional>
#include <string>

#include "core/shape.hpp"
#include "core/types.hpp"

namespace dcp {

/// One point of a sweep. The implementation is *not* part of a Case: a result row is
/// (case key, impl). Axes that do not apply to an implementation (pdl and workspace for the NCCL
/// baselines) are std::nullopt and print as "n/a", instead of multiplying cases.
struct Case {
  Op op = Op::kExchange;   ///< what is computed: the exchange alone, or exchange + merge
  int cp_size = 2;         ///< ranks taking part in the exchange
  std::int64_t batch = 1;  ///< entries E (leading dims flattened); 0 = empty exchange
  /// The user's vocabulary (issue 15): when the case was given as decode tokens x heads per rank
  /// (--tokens/--heads or a --model preset) both are set and batch = tokens x heads; when it
  /// was given as entries (--batch) both are empty. The key says which.
  std::optional<std::int64_t> tokens;
  std::optional<int> heads;
  std::string model;                ///< the --model preset the shape came from; empty = none
  int head_dim = 128;               ///< D, elements per partial_o row
  int stats_dim = 2;                ///< S, fp32 elements per softmax_stats row (even, >= 2); for
                                    ///< op reduce 1: the row's LSE
  std::optional<LseBase> lse_base;  ///< op reduce: base of the LSEs; nullopt for the exchange
  DType dtype = DType::kBf16;       ///< element type of partial_o
  LaunchMode launch = LaunchMode::kEager;
  std::optional<bool> pdl;                 ///< programmatic dependent launch; nullopt = n/a
  std::optional<WorkspaceKind> workspace;  ///< native workspace kind; nullopt = n/a

  /// Stable identifier used by reports and `compare`, e.g.
  /// "cp=2 batch=16 head_dim=128 stats_dim=2 dtype=bf16 launch=graph pdl=on workspace=ipc" or
  /// "op=reduce cp=8 model=deepseek-v3 tokens=64 heads=16 head_dim=512 dtype=bf16 lse=2
  /// launch=graph pdl=n/a workspace=n/a". An exchange given as entries keeps the key it had
  /// before the op axis existed, so older reports compare with newer ones.
  [[nodiscard]] std::string key() const;
  /// The key without the impl-specific axes (pdl, workspace): rows of different
  /// implementations that share it measured the same exchange, so speedups pair them up.
  [[nodiscard]] std::string exchange_key() const;

  /// The tensor geometry of this exchange (E = batch).
  [[nodiscard]] ExchangeShape shape() const {
    return ExchangeShape{cp_size, batch, head_dim, stats_dim, dtype == DType::kFp16};
  }

  /// Bytes of one partial_o row (D × element size).
  [[nodiscard]] std::uint64_t o_row_bytes() const;
  /// Bytes of one softmax_stats row (S × 4).
  [[nodiscard]] std::uint64_t stats_row_bytes() const;
  /// Bytes of each input tensor pair on one rank: E × cp × (o_row + stats_row). This is the
  /// all-to-all "size" of nccl-tests (the send buffer of one rank), used for algbw/busbw.
  [[nodiscard]] std::uint64_t bytes_per_rank() const;
  /// Bytes one rank sends to each peer per call: E × (o_row + stats_row).
  [[nodiscard]] std::uint64_t bytes_per_peer() const;

  friend bool operator==(const Case&, const Case&) = default;
};

}  // namespace dcp
