#pragma once
/// @file
/// `dcpbench list`: a dry run. Prints the runs the config and flags resolve to for this job
/// (the same resolve_sweep `run` uses, with the launcher's world size), or with --impls the
/// registry rows, or with --models the model presets. No GPU, no MPI.

#include <iosfwd>

#include "cli/run_options.hpp"
#include "core/impl_info.hpp"

namespace dcp::cli {

/// What `list` prints.
enum class ListWhat {
  kRuns,    ///< the resolved runs (a case key per line, with E where given as tokens x heads)
  kImpls,   ///< --impls: one entry per registry row
  kModels,  ///< --models: one line per model preset (name, heads, tp, heads per rank, head_dim,
            ///< LSE base, source)
};

/// Prints the model presets (`list --models`) to `out`.
void list_models(std::ostream& out);

/// Prints what `what` asks for to `out`. Returns the exit code (0); bad input throws
/// ConfigError.
int list_command(const RunArgs& args, const ImplCatalog& catalog, ListWhat what, std::ostream& out);

}  // namespace dcp::cli
