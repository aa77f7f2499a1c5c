#include "cli/list_command.hpp"

#include <fmt/format.h>

#include <ostream>

#include "cli/launcher_env.hpp"
#include "core/models.hpp"
#include "core/resolve.hpp"

namespace dcp::cli {

void list_models(std::ostream& out) {
  out << fmt::format("{:<14} {:>5} {:>3} {:>9} {:>8} {:>3}  {}\n", "# model", "heads", "tp",
                     "heads/tp", "head_dim", "lse", "source");
  for (const ModelPreset& m : model_presets()) {
    out << fmt::format("{:<14} {:>5} {:>3} {:>9} {:>8} {:>3}  {} ({})\n", m.name,
                       m.num_attention_heads, m.tp, m.heads_per_rank, m.head_dim,
                       to_string(m.lse_base), m.config_url, m.file);
  }
}

int list_command(const RunArgs& args, const ImplCatalog& catalog, ListWhat what,
                 std::ostream& out) {
  if (what == ListWhat::kModels) {
    list_models(out);
    return 0;
  }
  if (what == ListWhat::kImpls) {
    for (const ImplInfo& row : catalog.rows())
      out << fmt::format("{:<11}  {}\n{:<11}  {}\n", row.name, row.summary, "", describe(row));
    return 0;
  }
  const int world = launcher_world_size();
  const ResolvedSweep sweep = resolve_sweep(build_spec(args), catalog, world);
  for (const auto& n : sweep.notes)
    out << "# " << n << '\n';
  out << fmt::format(
      "# {} planned runs (world size {}{}); order: op, cp_size, dtype, model, head_dim, "
      "stats_dim or lse_base, heads, batch or tokens, launch, impl, pdl, workspace\n",
      sweep.runs.size(), world,
      sweep.spec.blocks.empty() ? std::string()
                                : fmt::format(", {} blocks in turn", sweep.spec.blocks.size()));
  std::size_t i = 0;
  for (const auto& r : sweep.runs) {
    // E is derived from tokens x heads: shown where the case was given in those terms.
    const std::string e = r.c.tokens ? fmt::format("  (E={})", r.c.batch) : std::string();
    out << fmt::format("{:4d}  {:<11}  {}{}\n", i++, r.impl, r.c.key(), e);
  }
  return 0;
}

}  // namespace dcp::cli
