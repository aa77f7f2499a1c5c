#pragma once
/// @file
/// `dcpbench diag`: fabric bring-up diagnostics. Every rank checks its GPU, the peers, the cuMem
/// and fabric paths, the mapped workspace, latency and bandwidth, and a native-exchange smoke
/// test; rank 0 prints one report (table on stdout, `--json FILE` in the dcpbench-diag schema,
/// docs/diag-schema.md).
///
/// Exit codes: 0 every check PASS or WARN (SKIP allowed); 1 a check FAILed; 2 usage error (bad
/// flag, unknown check name), found before MPI starts; 3 a runtime error stopped diag itself
/// (no GPU, a collective or the GPU stuck past the timeout).

#include <optional>
#include <string>

#include "cli/commands.hpp"

namespace CLI {
class App;
}

namespace dcp::cli {

/// The options of `diag`, as given.
struct DiagArgs {
  bool quick = false;                      ///< --quick: a few seconds (small copies, fewer rounds)
  std::optional<std::string> checks;       ///< --checks a,b: groups to run; unset = all
  bool list_checks = false;                ///< --list-checks: print the groups and exit
  std::string json_out;                    ///< --json FILE
  std::optional<std::string> timeout;      ///< -T/--timeout SECONDS (default 10)
  bool explain = false;                    ///< --explain: remedies of FAIL and WARN rows
  std::optional<std::string> ll128_lines;  ///< --ll128-lines N (ll128_order probe)
};

/// Registers the `diag` subcommand and its options on `app`; returns it.
CLI::App* add_diag_subcommand(CLI::App& app, DiagArgs& args);

/// Validates `args` (ConfigError, exit 2, before any MPI or CUDA), then creates the World in
/// `session` and runs the checks. Returns the exit code from the verdicts (0 or 1).
int run_diag(const DiagArgs& args, Session& session);

}  // namespace dcp::cli
