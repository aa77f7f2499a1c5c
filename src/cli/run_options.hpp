#pragma once
/// @file
/// The options of `run` and `list`: raw flag values as given, and their conversion into a
/// SweepSpec on top of the configuration file (flags win). The conversion is pure and throws
/// ConfigError naming the field, the value and what is accepted. What depends on the job and
/// on the implementations is decided afterwards, once, by core's resolve_sweep().

#include <optional>
#include <string>
#include <vector>

#include "core/impl_info.hpp"
#include "core/sweep.hpp"

namespace CLI {
class App;
}

namespace dcp::cli {

/// Flags of `run`/`list` as typed. A list flag holds one text per occurrence (`--batch 1,16
/// --batch 64` gives {"1,16", "64"}); build_spec splits each at commas, refusing empty entries.
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

/// Registers the sweep flags (shared by run and list) on `app`; help texts state the defaults
/// and the implementations of `catalog`.
void add_sweep_options(CLI::App& app, RunArgs& args, const ImplCatalog& catalog);
/// Registers run's output flags (--json, --csv, --no-files, --quiet).
void add_output_options(CLI::App& app, RunArgs& args);

/// The spec: built-in default, then --config, then flags; validated field by field (names of
/// implementations are checked against the catalog by resolve_sweep).
SweepSpec build_spec(const RunArgs& args);

/// The report files `run` writes (rank 0, at the end).
struct OutputFiles {
  std::string json;
  std::string csv;
};

/// The files `run` will write (nullopt with --no-files), each checked writable now
/// (report::require_writable): a bad --json/--csv is refused before MPI starts, not after the
/// sweep ran.
std::optional<OutputFiles> output_files(const RunArgs& args);

}  // namespace dcp::cli
