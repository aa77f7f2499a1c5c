#pragma once
/// @file
/// The subcommands' entry points. Each returns the process exit code (core/error.hpp ExitCode)
/// or throws a dcp::Error that main() turns into a message and an exit code.

#include <optional>
#include <string>
#include <vector>

#include "cli/run_options.hpp"
#include "core/world.hpp"

namespace dcp::cli {

/// What main() hands to the commands that need MPI: the session is created by the command
/// (after its arguments were validated, so bad input never needs mpirun) and kept here so that
/// main() can tag errors with the rank and abort the job.
struct Session {
  int* argc = nullptr;
  char*** argv = nullptr;
  std::vector<std::string> args;  ///< argv as given, for the report
  std::optional<World> world;
};

/// `dcpbench run`: measure, verify, print the table, write the reports. Every input error is
/// found before GPU work: flags, config and output files before MPI starts, what depends on the
/// job (resolve_sweep, agreed across ranks once) right after.
int run_command(const RunArgs& args, Session& session);

}  // namespace dcp::cli
