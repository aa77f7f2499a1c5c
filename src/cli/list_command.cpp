#include "cli/list_command.hpp"

#include <fmt/format.h>

#include <ostream>

#include "cli/launcher_env.hpp"
#include "core/resolve.hpp"

namespace dcp::cli {

int list_command(const RunArgs& args, const ImplCatalog& catalog, bool impls_only,
                 std::ostream& out) {
  if (impls_only) {
    for (const ImplInfo& row : catalog.rows())
      out << fmt::format("{:<11}  {}\n{:<11}  {}\n", row.name, row.summary, "", describe(row));
    return 0;
  }
  const int world = launcher_world_size();
  const ResolvedSweep sweep = resolve_sweep(build_spec(args), catalog, world);
  for (const auto& n : sweep.notes)
    out << "# " << n << '\n';
  out << fmt::format(
      "# {} planned runs (world size {}); order: cp_size, dtype, head_dim, "
      "stats_dim, batch, launch, impl, pdl, workspace\n",
      sweep.runs.size(), world);
  std::size_t i = 0;
  for (const auto& r : sweep.runs) {
    out << fmt::format("{:4d}  {:<11}  {}\n", i++, r.impl, r.c.key());
  }
  return 0;
}

}  // namespace dcp::cli
