#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <limits>

#include "bench/plan_agreement.hpp"
#include "bench/runner.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/registry.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "core/resolve.hpp"
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

}  // namespace

int run_command(const RunArgs& args, Session& session) {
  // Everything about the input is checked before MPI starts: bad input needs no mpirun and
  // leaves no report behind.
  const SweepSpec spec = build_spec(args);
  const std::optional<OutputFiles> files = output_files(args);
  session.world.emplace(session.argc, session.argv, spec.measure.timeout_s);
  const World& world = *session.world;

  // Resolve once against the catalog and the job, and agree across ranks once, before any GPU
  // work: ranks launched with different flags are named here.
  SweepSpec mine = spec;
  if (spec.measure.inject && spec.measure.inject->kind == FaultKind::kShapeMismatch &&
      spec.measure.inject->applies_to(world.rank())) {
    // Testing aid: this rank's sweep differs from its peers'.
    for (SweepAxes* a : expanded_axes(mine)) {
      for (auto* list : {&a->batch, &a->tokens}) {
        for (auto& b : *list) {
          if (b < std::numeric_limits<std::int64_t>::max()) ++b;
        }
      }
    }
  }
  ResolvedSweep sweep = resolve_sweep(std::move(mine), builtin_catalog(), world.size());
  bench::require_same_plan(sweep.runs, world);

  const int device = select_device_for_local_rank(world.local_rank(), world.local_size());
  // `--workspace auto` becomes the kind it picks here (fabric where it works on every rank, else
  // ipc on one host; decided collectively), so reports and `compare` see what really ran.
  if (has_auto_workspace(sweep)) {
    resolve_auto_workspace(sweep, fabric::resolve_workspace_kind(WorkspaceKind::kAuto, world));
  }
  std::vector<std::string> notes = sweep.notes;
  if (spec.measure.allow_unvalidated_path) {
    notes.emplace_back(
        "--allow-unvalidated-path: LL128 strategies may run over rank pairs whose path is not "
        "validated for LL128's ordering contract (not NVLink); their results are not evidence "
        "that the protocol is safe there");
  }
  const RankInfo me = describe_rank(world, device, Registry::nccl_loaded_version());
  if (const std::string w = Registry::nccl_version_warning(); !w.empty()) notes.push_back(w);

  Registry registry(world);
  RunReport report;
  report.context =
      collect_context(world, me, session.args, Registry::nccl_compiled_version(), notes);
  report.spec = sweep.spec;
  if (world.rank() == 0 && !args.quiet) {
    for (const auto& n : notes)
      std::cerr << "dcpbench: note: " << n << '\n';
  }

  bench::SweepOutcome outcome =
      bench::run_sweep(sweep, registry, world, make_progress(world, args.quiet));
  report.results = std::move(outcome.results);
  report.launch_floors = std::move(outcome.launch_floors);
  report.speedups = compute_speedups(report.results, registry.catalog());
  if (outcome.aborted) {
    // A partial report: what ran before the sweep stopped, and why it stopped.
    report.context.notes.push_back(fmt::format("ABORTED after {} of {} runs: {}",
                                               report.results.size(), sweep.runs.size(),
                                               outcome.abort_reason));
  }

  if (world.rank() == 0) {
    report::write_table(report, std::cout);
    std::cout.flush();
    if (files) {
      report::write_file_atomically(files->json,
                                    [&](std::ostream& os) { report::write_json(report, os); });
      report::write_file_atomically(files->csv,
                                    [&](std::ostream& os) { report::write_csv(report, os); });
      if (!args.quiet)
        std::cerr << "dcpbench: wrote " << files->json << " and " << files->csv << '\n';
    }
  }
  if (outcome.aborted) {
    if (world.rank() == 0) {
      std::cerr << "dcpbench: error: the sweep was aborted: " << outcome.abort_reason
                << (files ? " (partial report written)" : "") << '\n';
    }
    // No barrier: a peer may be the reason the sweep stopped.
    return static_cast<int>(ExitCode::kRuntime);
  }
  const bool any_bad =
      std::any_of(report.results.begin(), report.results.end(),
                  [](const CaseResult& r) { return r.status == CaseStatus::kVerifyFailed; });
  world.barrier("end of run");
  return static_cast<int>(any_bad ? ExitCode::kCheckFailed : ExitCode::kSuccess);
}

}  // namespace dcp::cli
