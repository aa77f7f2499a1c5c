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
  /// The operation and the shape in the user's terms (issue 15).
  std::vector<std::string> op, tokens, heads, model, lse_base;
  std::optional<std::string> warmup, iters, graph_calls, ring, seed, timeout, stress, inject;
  bool allow_unvalidated_path = false;  ///< --allow-unvalidated-path
  std::string json_out;                 ///< --json FILE
  std::string csv_out;                  ///< --csv FILE
  bool no_files = false;                ///< --no-files: table only
  bool quiet = false;                   ///< --quiet: no progress line, no table header notes
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
///
/// Blocks (SweepSpec::blocks, e.g. the built-in default's exchange and reduce blocks): a flag
/// that says what is computed (--op, --batch, --tokens, --heads, --model, --head-dim,
/// --stats-dim, --lse-base) replaces them by one sweep, the config's top level with the flags
/// applied; the other axis flags (--cp-size, --dtype, --impl, --workspace, --launch, --pdl)
/// apply to every block.
///
/// --model fills heads per rank, head_dim and the LSE base of its cases; --heads overrides the
/// heads (a divisor of the model's query heads: the heads per rank at another TP) and
/// --lse-base the base; a --head-dim that contradicts a model is refused. Refused as well, each
/// with a one-line ConfigError: --batch with --tokens, --tokens without --heads or --model,
/// --stats-dim when no exchange is computed (--op reduce), an unknown model or LSE base.
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
