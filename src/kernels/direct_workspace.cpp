#include "kernels/direct_workspace.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace dcp::kernels::direct {

namespace {

std::string case_text(const ExchangeShape& s) {
  return fmt::format("cp={} E={} D={} S={}", s.cp_size, s.entries, s.head_dim, s.stats_dim);
}

}  // namespace

Geometry geometry_for_sweep(std::span<const ExchangeShape> cases) {
  if (cases.empty()) throw ConfigError("direct workspace: the sweep has no case");
  Geometry g{};
  bool first = true;
  for (const ExchangeShape& s : cases) {
    if (const char* p = shape_problem(s)) {
      throw ConfigError(fmt::format("direct workspace: case {}: {}", case_text(s), p));
    }
    if (!first && s.cp_size != g.cp_size) {
      throw ConfigError(fmt::format(
          "direct workspace: the sweep mixes cp={} and cp={}; a workspace serves one cp", g.cp_size,
          s.cp_size));
    }
    const Geometry need = geometry_for(s.cp_size, s.entries, s.head_dim, s.stats_dim);
    g = first ? need : covering(g, need);
    first = false;
  }
  if (const char* p = geometry_problem(g)) {
    throw ConfigError(fmt::format(
        "direct workspace: {} flag slots and {} bytes per receive region give {} bytes per rank: "
        "{}; lower the largest tokens x heads",
        g.max_blocks, g.region_bytes, g.segment_bytes(), p));
  }
  return g;
}

std::optional<std::string> direct_fit_problem(const ExchangeShape& shape, const Geometry& g) {
  if (const char* p = shape_problem(shape)) {
    return fmt::format("direct: case {}: {}", case_text(shape), p);
  }
  const Layout l = make_layout(shape);
  if (layout_problem(g, l) == nullptr) return std::nullopt;
  const Geometry need = geometry_for(shape.cp_size, shape.entries, shape.head_dim, shape.stats_dim);
  return fmt::format(
      "direct: case {} needs {} blocks and {} bytes per receive region ({} bytes per rank), the "
      "workspace (cp={}) has {} flag slots and {} bytes per region ({} per rank); size the "
      "workspace for the sweep's largest case",
      case_text(shape), l.blocks, l.region_bytes(), need.segment_bytes(), g.cp_size, g.max_blocks,
      g.region_bytes, g.segment_bytes());
}

std::string describe_error(const ErrorInfo& e, double timeout_s) {
  constexpr const char* kWhy =
      " — the peer never launched the exchange, died, or runs a different sweep";
  switch (e.role) {
    case ErrorRole::kRecv:
      return fmt::format(
          "rank {}: no flag from peer {} for block {} (awaited epoch {}, flag {}; saw {}) within "
          "{:g} s{}",
          e.rank, e.peer, e.block, e.epoch, flag_for(e.epoch), e.observed, timeout_s, kWhy);
    case ErrorRole::kAhead:
      return fmt::format(
          "rank {}: peer {} is ahead: its flag for block {} is {}, this call (epoch {}) awaits "
          "{} — the ranks disagree on the call count (a rank skipped a call or was reset alone)",
          e.rank, e.peer, e.block, e.observed, e.epoch, flag_for(e.epoch));
    case ErrorRole::kAbort:
      return fmt::format(
          "rank {}: stopped waiting for peer {} (block {}, epoch {}) because rank {} or peer {} "
          "had already failed",
          e.rank, e.peer, e.block, e.epoch, e.rank, e.peer);
  }
  return fmt::format("rank {}: unknown error record", e.rank);
}

}  // namespace dcp::kernels::direct
