#include <fmt/format.h>

#include <iostream>

#include "cli/commands.hpp"

namespace dcp::cli {

int list_command(const RunArgs& args) {
  SweepSpec spec = build_spec(args);
  const int world = launcher_world_size();
  const auto notes = resolve_for_world(spec, world);
  const auto plan = expand(spec, world);
  for (const auto& n : notes)
    std::cout << "# " << n << '\n';
  std::cout << fmt::format(
      "# {} planned runs (world size {}); order: cp_size, dtype, head_dim, "
      "stats_dim, batch, launch, impl, pdl, workspace\n",
      plan.size(), world);
  std::size_t i = 0;
  for (const auto& r : plan) {
    std::cout << fmt::format("{:4d}  {:<11}  {}\n", i++, r.impl, r.c.key());
  }
  return 0;
}

}  // namespace dcp::cli
