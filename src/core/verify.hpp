#pragma once
/// @file
/// Bit-exact verification of exchange outputs against core/pattern.hpp, on the host.
///
/// The GPU path (bench/) checks on the device with the same pattern functions and fills the same
/// VerifyOutcome; this host version is the oracle for CPU tests and for small copies.

#include <cstdint>
#include <optional>
#include <string>

#include "core/shape.hpp"

namespace dcp {

/// The first wrong word found, located precisely.
struct Mismatch {
  std::string tensor;      ///< "partial_o" or "softmax_stats"
  int dst_rank = 0;        ///< the rank whose output was wrong
  int src_rank = 0;        ///< the peer the row came from (the output's cp index)
  std::int64_t entry = 0;  ///< e
  int element = 0;         ///< index within the row
  std::uint32_t call = 0;  ///< input-set index the output was checked against
  std::uint32_t expected_bits = 0;
  std::uint32_t actual_bits = 0;

  friend bool operator==(const Mismatch&, const Mismatch&) = default;
};

/// Result of checking one or more outputs.
struct VerifyOutcome {
  std::uint64_t calls_checked = 0;        ///< exchanges whose outputs were checked
  std::uint64_t rows_checked = 0;         ///< output rows (e, p) checked, over all calls and ranks
  std::uint64_t bad_rows = 0;             ///< rows with at least one wrong word (o or stats)
  std::uint64_t mismatched_elements = 0;  ///< wrong elements over both tensors
  std::optional<Mismatch> first;          ///< the first wrong element seen

  [[nodiscard]] bool ok() const { return bad_rows == 0 && mismatched_elements == 0; }
  /// Adds `other`'s counts; keeps this outcome's `first` if it has one.
  void merge(const VerifyOutcome& other);
  /// One line for humans, e.g. "0 bad rows of 1024" or the first mismatch located.
  [[nodiscard]] std::string summary() const;

  friend bool operator==(const VerifyOutcome&, const VerifyOutcome&) = default;
};

/// Why `v`, the verification of a case with `entries` entries (E), cannot stand as the record
/// of a checked case: no call checked at all, or no row checked of a non-empty exchange (a
/// harness defect: the outputs were not verified). nullopt when it can; an empty exchange
/// (E = 0) checks calls but no rows, which summary() says explicitly.
std::optional<std::string> verification_defect(std::int64_t entries, const VerifyOutcome& v);

/// Fills rank `src`'s inputs for input set `call` (host memory, [E, cp, D] and [E, cp, S]).
void fill_inputs_host(const ExchangeShape& shape, std::uint64_t seed, std::uint32_t call, int src,
                      std::uint16_t* in_o, std::uint32_t* in_stats);

/// Writes the poison pattern into rank outputs (host memory).
void poison_outputs_host(const ExchangeShape& shape, std::uint16_t* out_o,
                         std::uint32_t* out_stats);

/// Checks rank `dst`'s outputs for input set `call` bit by bit. `check_stats` = false skips
/// softmax_stats (for an implementation that moves partial_o only).
VerifyOutcome verify_outputs_host(const ExchangeShape& shape, std::uint64_t seed,
                                  std::uint32_t call, int dst, const std::uint16_t* out_o,
                                  const std::uint32_t* out_stats, bool check_stats = true);

}  // namespace dcp
