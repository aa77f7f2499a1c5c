#pragma once
/// @file
/// The options of `run` and `list`: raw flag values as given, and their conversion into a
/// SweepSpec on top of the configuration file (flags win). The conversion is pure and throws
/// ConfigError naming the field, the value and what is accepted.

#include <optional>
#include <string>
#include <vector>

#include "core/sweep.hpp"

namespace CLI {
class App;
}

namespace dcp::cli {

/// Flags of `run`/`list` as typed (lists already split at commas).
struct RunArgs {
  std::string config;  ///< --config FILE; empty = the built-in default only
  std::vector<std::string> batch, head_dim, stats_dim, dtype, cp_size, impl, workspace, launch, pdl;
  std::optional<std::string> warmup, iters, graph_calls, ring, seed, timeout, stress, inject;
  std::string json_out;   ///< --json FILE
  std::string csv_out;    ///< --csv FILE
  bool no_files = false;  ///< --no-files: table only
  bool quiet = false;     ///< --quiet: no progress line, no table header notes
};

/// Default report file names when --json/--csv are not given.
inline constexpr const char* kDefaultJsonOut = "dcpbench-report.json";
inline constexpr const char* kDefaultCsvOut = "dcpbench-report.csv";

/// Registers the sweep flags (shared by run and list) on `app`; help texts state the defaults.
void add_sweep_options(CLI::App& app, RunArgs& args);
/// Registers run's output flags (--json, --csv, --no-files, --quiet).
void add_output_options(CLI::App& app, RunArgs& args);

/// The spec: built-in default, then --config, then flags; validated.
SweepSpec build_spec(const RunArgs& args);

/// Fills in what depends on the job: with one rank, no cp_size given and workspace auto/sim,
/// the sweep simulates cp = 2 and 4 on the one GPU. Returns the notes to report ("single rank:
/// ..."). Then checks the spec against the world size (validate_for_world).
std::vector<std::string> resolve_for_world(SweepSpec& spec, int world_size);

}  // namespace dcp::cli
