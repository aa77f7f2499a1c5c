#include "cli/diag_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/context.hpp"
#include "cli/registry.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "core/limits.hpp"
#include "diag/checks.hpp"
#include "diag/groups.hpp"
#include "diag/plan.hpp"
#include "report/atomic_file.hpp"
#include "report/diag_report.hpp"

namespace dcp::cli {

namespace {

double parse_timeout(const std::optional<std::string>& text) {
  if (!text) return kDefaultTimeoutS;
  double v = 0;
  std::size_t used = 0;
  try {
    v = std::stod(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text->size() || text->empty()) {
    throw ConfigError(fmt::format("timeout: '{}' is not a number; accepted: seconds in (0, {}]",
                                  *text, kMaxTimeoutS));
  }
  if (!(v > 0) || v > kMaxTimeoutS) {
    throw ConfigError(fmt::format("timeout: {} is out of range; accepted: seconds in (0, {}]",
                                  *text, kMaxTimeoutS));
  }
  return v;
}

std::uint64_t parse_ll128_lines(const std::string& text) {
  const auto bad = [&](std::string_view why) {
    return ConfigError(fmt::format("ll128_lines: '{}' {}; accepted: an integer in [{}, {}]", text,
                                   why, diag::kLl128MinLines, diag::kLl128MaxLines));
  };
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw bad("is not a positive integer");
  }
  std::uint64_t v = 0;
  try {
    v = std::stoull(text);
  } catch (const std::exception&) {
    throw bad("is out of range");
  }
  if (v < diag::kLl128MinLines || v > diag::kLl128MaxLines) throw bad("is out of range");
  return v;
}

diag::DiagPlan make_plan(const DiagArgs& args) {
  diag::DiagPlan plan;
  if (args.checks && args.checks->empty()) {
    throw ConfigError(fmt::format("checks: empty list; accepted: a comma-separated subset of {}",
                                  diag::accepted_check_groups()));
  }
  plan.groups = diag::parse_check_groups(args.checks.value_or(""));
  plan.quick = args.quick;
  plan.timeout_s = parse_timeout(args.timeout);
  if (args.ll128_lines) plan.ll128_lines = parse_ll128_lines(*args.ll128_lines);
  return plan;
}

void print_check_list(std::ostream& os) {
  std::size_t width = 0;
  for (const auto& g : diag::kCheckGroups)
    width = std::max(width, g.name.size());
  os << "diag check groups (run order; select with --checks a,b):\n";
  for (const auto& g : diag::kCheckGroups)
    os << fmt::format("  {:<{}}  {}\n", g.name, width, g.description);
}

}  // namespace

CLI::App* add_diag_subcommand(CLI::App& app, DiagArgs& args) {
  CLI::App* diag = app.add_subcommand(
      "diag",
      "Fabric bring-up diagnostics: GPUs, peer access, NVLink, cuMem/fabric/ipc, cross-rank "
      "visibility, latency and bandwidth matrices, a native-exchange smoke test. Run under "
      "mpirun -np N (one rank per GPU); exit 0 when every check passes or warns, 1 when one fails");
  diag->add_flag("--quick", args.quick,
                 "A few seconds: 1,000 ping-pong rounds, 32 MiB copies, 5 exchanges (full: "
                 "10,000 rounds, 256 MiB copies, 20 exchanges)");
  diag->add_option("--checks", args.checks,
                   fmt::format("Comma-separated check groups to run [default: all]; accepted: {}",
                               diag::accepted_check_groups()));
  diag->add_flag("--list-checks", args.list_checks, "Print the check groups and exit");
  diag->add_flag("--explain", args.explain,
                 "After the table, print for every FAIL and WARN row what to do about it (the "
                 "command or setting)");
  diag->add_option("--ll128-lines", args.ll128_lines,
                   fmt::format("Lines the ll128_order probe writes per layout and rank pair "
                               "[default: {}, --quick {}]",
                               diag::kLl128DefaultLines, diag::kLl128QuickLines));
  diag->add_option("--json", args.json_out,
                   "Also write the report as JSON (schema dcpbench-diag, docs/diag-schema.md)");
  diag->add_option("-T,--timeout", args.timeout,
                   fmt::format("Seconds any wait (GPU spin, collective) may take; a dead link is "
                               "a FAIL after this [default: {}]",
                               kDefaultTimeoutS));
  return diag;
}

int run_diag(const DiagArgs& args, Session& session) {
  // Input first: bad input needs no mpirun and touches no GPU.
  const diag::DiagPlan plan = make_plan(args);
  if (args.list_checks) {
    print_check_list(std::cout);
    return static_cast<int>(ExitCode::kSuccess);
  }
  // The --json file's folder must exist and be writable: found before MPI starts.
  if (!args.json_out.empty()) report::require_writable(args.json_out, "json");

  session.world.emplace(session.argc, session.argv, plan.timeout_s);
  World& world = *session.world;
  const bool gpu_needed = std::any_of(plan.groups.begin(), plan.groups.end(), [](const auto& g) {
    const diag::CheckGroupInfo* info = diag::find_check_group(g);
    return info == nullptr || info->needs_gpu;
  });
  const diag::DiagDevice device = diag::select_diag_device(world, gpu_needed);

  diag::DiagEnvironment env;
  env.nccl_loaded = Registry::nccl_loaded_version();
  env.nccl_compiled = Registry::nccl_compiled_version();
  env.nccl_warning = Registry::nccl_version_warning();
  Registry registry(world);
  env.impls = &registry;
  env.smoke_impl = std::string(diag_smoke_impl());
  // Without CUDA (error 802) the rank is described from what diag gathers (fabric_manager).
  RankInfo mine;
  if (device.cuda_ready) {
    mine = describe_rank(world, device.device, env.nccl_loaded);
  } else {
    mine.rank = world.rank();
    mine.local_rank = world.local_rank();
    mine.host = world.host();
    mine.nccl_version = env.nccl_loaded;
  }
  std::vector<std::string> notes;
  if (!device.cuda_ready) {
    notes.push_back(
        fmt::format("rank {}: CUDA did not start ({}: {}); only the checks that need "
                    "no GPU ran (see fabric_manager/cuda_init)",
                    world.rank(), device.cuda_error_name, device.cuda_error_text));
  }
  if (world.size() == 1) {
    notes.emplace_back(
        "single rank: the peer checks are skipped; run under mpirun -np N (one rank per GPU) "
        "to test the links");
  }
  RunContext context = collect_context(world, mine, session.args, env.nccl_compiled, notes);

  DiagReport report = diag::run_checks(plan, world, device, env);
  report.context = std::move(context);

  if (world.rank() == 0) {
    report::write_diag_table(report, std::cout);
    if (args.explain) report::write_diag_explain(report, std::cout);
    std::cout.flush();
    if (!args.json_out.empty()) {
      report::write_file_atomically(args.json_out,
                                    [&](std::ostream& os) { report::write_diag_json(report, os); });
      std::cerr << "dcpbench: wrote " << args.json_out << '\n';
    }
  }
  world.barrier("end of diag");
  return report.summary.exit_code;
}

}  // namespace dcp::cli
