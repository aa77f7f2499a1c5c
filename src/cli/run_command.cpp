#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "bench/plan_agreement.hpp"
#include "bench/runner.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/impl_registry.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "core/impl_names.hpp"
#include "fabric/workspace.hpp"
#include "report/atomic_file.hpp"
#include "report/csv_report.hpp"
#include "report/json_report.hpp"
#include "report/table_report.hpp"

namespace dcp::cli {

namespace {

/// A one-line progress indicator on stderr, rank 0 only, when stderr is a terminal.
bench::ProgressFn make_progress(const World& world, bool quiet) {
  if (quiet || world.rank() != 0 || !isatty(STDERR_FILENO)) return {};
  return [](std::size_t i, std::size_t n, const PlannedRun& r) {
    std::fprintf(stderr, "\r\033[K[%zu/%zu] %-11s %s", i + 1, n, r.impl.c_str(), r.c.key().c_str());
    if (i + 1 == n) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

/// Cases are fully resolved: `--workspace auto` becomes the kind it picks here (fabric where it
/// works on every rank, else ipc on one host), so reports and `compare` see what really ran.
void resolve_auto_workspace(SweepSpec& spec, const World& world, std::vector<std::string>& notes) {
  auto& kinds = spec.axes.workspace;
  const auto impls = effective_impls(spec.axes);
  const bool uses_workspace = std::any_of(
      impls.begin(), impls.end(), [](const std::string& i) { return impl_uses_workspace(i); });
  if (!uses_workspace) return;
  for (auto& k : kinds) {
    if (k != WorkspaceKind::kAuto) continue;
    k = fabric::resolve_workspace_kind(WorkspaceKind::kAuto, world);
    notes.push_back(fmt::format("workspace auto resolved to {}", to_string(k)));
  }
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
}

}  // namespace

int run_command(const RunArgs& args, Session& session) {
  // Everything about the input is checked before MPI starts: bad input needs no mpirun and
  // leaves no report behind.
  SweepSpec spec = build_spec(args);
  session.world.emplace(session.argc, session.argv, spec.measure.timeout_s);
  const World& world = *session.world;
  std::vector<std::string> notes = resolve_for_world(spec, world.size());
  if (spec.measure.inject && spec.measure.inject->kind == FaultKind::kShapeMismatch &&
      spec.measure.inject->applies_to(world.rank())) {
    // Testing aid: this rank's sweep differs from its peers'.
    for (auto& b : spec.axes.batch)
      ++b;
  }
  // Ranks launched with different flags are caught before any GPU work (again in run_sweep,
  // after `auto` workspaces are resolved).
  bench::require_same_plan(expand(spec, world.size()), world);

  const int device = select_device_for_local_rank(world.local_rank(), world.local_size());
  resolve_auto_workspace(spec, world, notes);
  RankInfo mine = describe_device(device);
  mine.rank = world.rank();
  mine.local_rank = world.local_rank();
  mine.host = world.host();
  mine.nccl_version = ImplRegistry::nccl_loaded_version();
  if (const std::string w = ImplRegistry::nccl_version_warning(); !w.empty()) notes.push_back(w);

  ImplRegistry registry(world);
  RunReport report;
  report.context =
      collect_context(world, mine, session.args, ImplRegistry::nccl_compiled_version(), notes);
  report.spec = spec;
  const auto plan = expand(spec, world.size());
  if (world.rank() == 0 && !args.quiet) {
    for (const auto& n : notes)
      std::cerr << "dcpbench: note: " << n << '\n';
  }

  bench::SweepOutcome outcome =
      bench::run_sweep(spec, plan, registry, world, make_progress(world, args.quiet));
  report.results = std::move(outcome.results);
  report.launch_floors = std::move(outcome.launch_floors);
  report.speedups = compute_speedups(report.results);

  if (world.rank() == 0) {
    report::write_table(report, std::cout);
    std::cout.flush();
    if (!args.no_files) {
      const std::string json_path = args.json_out.empty() ? kDefaultJsonOut : args.json_out;
      const std::string csv_path = args.csv_out.empty() ? kDefaultCsvOut : args.csv_out;
      report::write_file_atomically(json_path,
                                    [&](std::ostream& os) { report::write_json(report, os); });
      report::write_file_atomically(csv_path,
                                    [&](std::ostream& os) { report::write_csv(report, os); });
      if (!args.quiet) std::cerr << "dcpbench: wrote " << json_path << " and " << csv_path << '\n';
    }
  }
  const bool any_bad =
      std::any_of(report.results.begin(), report.results.end(),
                  [](const CaseResult& r) { return r.status == CaseStatus::kVerifyFailed; });
  world.barrier("end of run");
  return static_cast<int>(any_bad ? ExitCode::kCheckFailed : ExitCode::kSuccess);
}

}  // namespace dcp::cli
