// dcpbench: one binary, subcommands run (default), diag, compare, list.
// The only place that knows CLI11 and exit codes; every error ends here as one rank-tagged line.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/compare_command.hpp"
#include "cli/crossover_command.hpp"
#include "cli/diag_command.hpp"
#include "cli/launcher_env.hpp"
#include "cli/list_command.hpp"
#include "cli/registry.hpp"
#include "core/build_info.hpp"
#include "core/error.hpp"

namespace {

constexpr const char* kDescription =
    "dcpbench: microbenchmark and diagnostics for the decode-context-parallel (DCP) all-to-all.\n"
    "Measures the native fused LL128 exchange against NCCL, verifies every byte, reports.\n"
    "Exit codes: 0 ok, 1 a check failed (verification, diag FAIL, compare regression),\n"
    "2 usage or input error, 3 environment or runtime error (no GPU, timeout, CUDA/NCCL/MPI).";

bool is_subcommand_name(const std::string& s) {
  return s == "run" || s == "diag" || s == "compare" || s == "list" || s == "crossover";
}

/// `run` is the default subcommand: insert it when the first argument is not a subcommand and
/// not a request for help or the version.
std::vector<std::string> with_default_subcommand(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || (!is_subcommand_name(args[0]) && args[0] != "-h" && args[0] != "--help" &&
                       args[0] != "--version")) {
    args.insert(args.begin(), "run");
  }
  return args;
}

void print_error(const std::string& tag, const std::string& what) {
  std::fprintf(stderr, "dcpbench: %serror: %s\n", tag.c_str(), what.c_str());
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  // Kernels that wait on one another inside one process (sim mode: every rank's kernels; diag's
  // probes) must all be loaded before any of them spins: under lazy module loading (CUDA >= 12.2
  // default) a first launch waits for running work, so a spinning waiter would time out before
  // its peer kernel starts. Loading everything at CUDA init costs a few ms once; a user's own
  // CUDA_MODULE_LOADING is kept.
  setenv("CUDA_MODULE_LOADING", "EAGER", 0);
  dcp::cli::Session session;
  session.argc = &argc;
  session.argv = &argv;
  session.args.assign(argv, argv + argc);
  try {
    CLI::App app{kDescription, "dcpbench"};
    app.set_version_flag("--version", fmt::format("dcpbench {} ({})", dcp::build_info().version,
                                                  dcp::build_info().git_sha));
    app.require_subcommand(1, 1);

    const dcp::ImplCatalog& catalog = dcp::cli::builtin_catalog();
    dcp::cli::RunArgs run_args;
    CLI::App* run =
        app.add_subcommand("run", "Measure and verify the exchanges of a sweep (default)");
    dcp::cli::add_sweep_options(*run, run_args, catalog);
    dcp::cli::add_output_options(*run, run_args);

    dcp::cli::RunArgs list_args;
    bool list_impls = false;
    bool list_models = false;
    CLI::App* list =
        app.add_subcommand("list", "Dry run: print the cases a config and flags expand to");
    dcp::cli::add_sweep_options(*list, list_args, catalog);
    list->add_flag("--impls", list_impls,
                   "Print the implementations instead: what each does, supports and needs");
    list->add_flag("--models", list_models,
                   "Print the model presets instead (configs/models/): heads per rank at their "
                   "TP, head_dim, LSE base, source");

    dcp::cli::DiagArgs diag_args;
    CLI::App* diag = dcp::cli::add_diag_subcommand(app, diag_args);

    dcp::cli::CompareArgs compare_args;
    CLI::App* compare = dcp::cli::add_compare_subcommand(app, compare_args);

    dcp::cli::CrossoverArgs crossover_args;
    CLI::App* crossover = dcp::cli::add_crossover_subcommand(app, crossover_args);

    std::vector<std::string> args = with_default_subcommand(argc, argv);
    std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
    try {
      app.parse(args);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      if (dcp::cli::launcher_rank() == 0) print_error("", e.what());
      return static_cast<int>(dcp::ExitCode::kUsage);
    }

    if (run->parsed()) return dcp::cli::run_command(run_args, session);
    if (list->parsed()) {
      using dcp::cli::ListWhat;
      const ListWhat what = list_models  ? ListWhat::kModels
                            : list_impls ? ListWhat::kImpls
                                         : ListWhat::kRuns;
      return dcp::cli::list_command(list_args, catalog, what, std::cout);
    }
    if (compare->parsed()) return dcp::cli::run_compare(compare_args);
    if (crossover->parsed()) return dcp::cli::run_crossover(crossover_args);
    if (diag->parsed()) return dcp::cli::run_diag(diag_args, session);
    return static_cast<int>(dcp::ExitCode::kUsage);
  } catch (const dcp::Error& e) {
    return dcp::exit_for_error(e, session.world ? &*session.world : nullptr,
                               dcp::cli::launcher_rank());
  } catch (const std::exception& e) {
    // Not one of ours (std::bad_alloc, a library's exception): a runtime error.
    return dcp::exit_for_error(dcp::Error(e.what()), session.world ? &*session.world : nullptr,
                               dcp::cli::launcher_rank());
  }
}
