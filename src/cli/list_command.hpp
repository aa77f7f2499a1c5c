#pragma once
/// @file
/// `dcpbench list`: a dry run. Prints the runs the config and flags resolve to for this job
/// (the same resolve_sweep `run` uses, with the launcher's world size), or with --impls the
/// registry rows. No GPU, no MPI.

#include <iosfwd>

#include "cli/run_options.hpp"
#include "core/impl_info.hpp"

namespace dcp::cli {

/// Prints the resolved runs to `out`; with `impls_only`, one line per registry row instead.
/// Returns the exit code (0); bad input throws ConfigError.
int list_command(const RunArgs& args, const ImplCatalog& catalog, bool impls_only,
                 std::ostream& out);

}  // namespace dcp::cli
