#pragma once
/// @file
/// Host side of the direct protocol's workspace: sizing it for a sweep, refusing a case that does
/// not fit with a one-line message, and turning an error record into a TimeoutError message.
/// The layout itself is in direct_layout.hpp (shared with the GPU); this file adds what needs
/// strings (fmt), so CUDA translation units never include it.

#include <optional>
#include <span>
#include <string>

#include "core/shape.hpp"
#include "kernels/direct_layout.hpp"

namespace dcp::kernels::direct {

/// The smallest workspace geometry for every case of a sweep (all of one cp, each with E, D and
/// S of the case; the case with the largest E per (D, S) decides). Throws ConfigError naming the
/// case when one is not a valid direct shape, the cases mix cp, or the segment would pass 2 GiB.
Geometry geometry_for_sweep(std::span<const ExchangeShape> cases);

/// Why `shape` cannot run on a workspace laid out as `g`: one line naming the case, what it needs
/// and what the workspace has, or nullopt when it fits. Also reports an invalid shape.
std::optional<std::string> direct_fit_problem(const ExchangeShape& shape, const Geometry& g);

/// The message for a decoded error record, e.g. "rank 0: no flag from peer 1 for block 3 (awaited
/// epoch 17, flag 18; saw 16) within 2 s - the peer never launched the exchange, died, or runs a
/// different sweep".
std::string describe_error(const ErrorInfo& e, double timeout_s);

}  // namespace dcp::kernels::direct
