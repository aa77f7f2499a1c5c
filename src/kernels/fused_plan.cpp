#include "kernels/fused_plan.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace dcp::kernels::fused {

namespace {

std::string case_text(const PlanRequest& r) {
  const ExchangeShape& s = r.shape;
  return fmt::format("fused {}: cp={} E={} D={} S={}", transport_name(r.transport), s.cp_size,
                     s.entries, s.head_dim, s.stats_dim);
}

PlanOutcome refuse(std::string problem) {
  PlanOutcome out;
  out.problem = std::move(problem);
  return out;
}

/// Shared memory of a CTA that stages `entries` entries of every source: the rows, then the
/// stats (16-byte aligned).
std::int64_t staging_bytes(const ExchangeShape& s, std::int64_t entries) {
  const std::int64_t rows = std::int64_t{s.cp_size} * entries;
  return rows * s.head_dim * 2 + direct::align_up(rows * s.stats_dim * 4, 16);
}

}  // namespace

PlanOutcome make_fused_plan(const PlanRequest& r) {
  const ExchangeShape& s = r.shape;
  if (const char* p = direct::shape_problem(s)) return refuse(case_text(r) + ": " + p);
  if (r.warps_per_cta < 1 || r.warps_per_cta > kMaxWarpsPerCta) {
    return refuse(fmt::format("{}: warps_per_cta must be in [1, {}], got {}", case_text(r),
                              kMaxWarpsPerCta, r.warps_per_cta));
  }
  if (r.sm_count < 1 || r.ctas_per_sm < 1 || r.local_grids < 1) {
    return refuse(
        fmt::format("{}: sm_count, ctas_per_sm and local_grids must be >= 1 (got {}, {}, {})",
                    case_text(r), r.sm_count, r.ctas_per_sm, r.local_grids));
  }
  const bool ll128 = r.transport == Transport::kLl128;
  if (ll128 && (r.max_channels < 1 || r.fifo_lines < 1 || r.target_lines_per_warp < 1)) {
    return refuse(fmt::format(
        "{}: max_channels, fifo_lines and target_lines_per_warp must be >= 1 (got {}, {}, {})",
        case_text(r), r.max_channels, r.fifo_lines, r.target_lines_per_warp));
  }

  FusedPlan p;
  p.transport = r.transport;
  p.cp_size = s.cp_size;
  p.entries = static_cast<std::uint32_t>(s.entries);
  p.warps_per_cta = r.warps_per_cta;
  p.o_row_words = static_cast<std::uint32_t>(s.head_dim * 2 / ll128::kWordBytes);
  p.stats_dim = static_cast<std::uint32_t>(s.stats_dim);
  p.resident_capacity = r.sm_count * r.ctas_per_sm;
  if (s.entries == 0) return PlanOutcome{p, {}};  // nothing is launched on any rank

  const int budget = p.resident_capacity / r.local_grids;
  if (budget < 1) {
    return refuse(fmt::format(
        "{}: {} grids need at least one resident CTA each, the GPU holds {} ({} SMs x {}); "
        "lower cp or use one GPU per rank",
        case_text(r), r.local_grids, p.resident_capacity, r.sm_count, r.ctas_per_sm));
  }

  std::int64_t ctas = 0;
  std::int64_t staged_entries = 0;  // entries per source a CTA holds in shared memory at once
  if (ll128) {
    p.unit_entries = 1;
    p.units = p.entries;
    // The most entries per CTA that keeps the CTA's 2 x cp streams within the target lines per
    // warp (latency falls with the lines a warp moves one after the other).
    const std::int64_t target_lines = std::int64_t{r.target_lines_per_warp} * r.warps_per_cta;
    std::int64_t n = 1;
    while (
        n < s.entries &&
        2 * std::int64_t{s.cp_size} *
                ll128_stream(p.o_row_words, p.stats_dim, static_cast<std::uint32_t>(n + 1)).lines <=
            target_lines) {
      ++n;
    }
    ctas = (s.entries + n - 1) / n;
    ctas = std::min({ctas, std::int64_t{r.max_channels}, std::int64_t{budget}});
    const std::int64_t per_cta = (s.entries + ctas - 1) / ctas;
    const StreamShape longest =
        ll128_stream(p.o_row_words, p.stats_dim, static_cast<std::uint32_t>(per_cta));
    if (longest.lines > static_cast<std::uint32_t>(r.fifo_lines)) {
      return refuse(fmt::format(
          "{}: at most {} CTAs (channels {}, co-resident {}) leave {} entries per CTA, a stream "
          "of {} lines; a FIFO holds {} and one call's stream must fit it; use the direct "
          "protocol",
          case_text(r), ctas, r.max_channels, budget, per_cta, longest.lines, r.fifo_lines));
    }
    p.max_stream_lines = longest.lines;
    staged_entries = per_cta;
  } else {
    const std::int64_t be = r.block_entries > 0 ? r.block_entries
                                                : direct::block_entries_for(s.cp_size, s.entries,
                                                                            direct::entry_bytes(s));
    p.unit_entries = static_cast<std::uint32_t>(be);
    p.units = static_cast<std::uint32_t>((s.entries + be - 1) / be);
    ctas = std::min<std::int64_t>(p.units, budget);
    staged_entries = be;  // one block of every source at a time
  }
  p.ctas = static_cast<int>(ctas);
  p.units_per_cta = p.units / static_cast<std::uint32_t>(ctas);
  p.extra_units = p.units % static_cast<std::uint32_t>(ctas);
  p.resident_needed = p.ctas * r.local_grids;

  if (r.stage_rows) {
    p.smem_bytes = staging_bytes(s, staged_entries);
    if (p.smem_bytes > r.smem_limit_bytes) {
      return refuse(fmt::format(
          "{}: staging {} entries of {} sources needs {} bytes of shared memory per CTA, the "
          "limit is {}",
          case_text(r), staged_entries, s.cp_size, p.smem_bytes, r.smem_limit_bytes));
    }
  }
  return PlanOutcome{p, {}};
}

std::optional<std::string> co_residency_problem(const FusedPlan& plan, int resident_capacity,
                                                int local_grids) {
  const std::int64_t needed = std::int64_t{plan.ctas} * local_grids;
  if (needed <= resident_capacity) return std::nullopt;
  return fmt::format(
      "fused {}: cp={} E={} needs {} resident CTAs ({} per grid x {} grids), the GPU holds {}; "
      "lower cp or tokens, or use one GPU per rank",
      transport_name(plan.transport), plan.cp_size, plan.entries, needed, plan.ctas, local_grids,
      resident_capacity);
}

}  // namespace dcp::kernels::fused
