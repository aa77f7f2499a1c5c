// A stand-alone `compare` for the script tests: the same subcommand and exit codes as
// `dcpbench compare`, without the rest of dcpbench (so it builds without CUDA and MPI).
// Usage: dcp_compare_tool compare BASE.json NEW.json [options]
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/compare_command.hpp"
#include "core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"dcpbench compare (test tool)"};
  app.require_subcommand(1, 1);
  dcp::cli::CompareArgs args;
  add_compare_subcommand(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return e.get_exit_code() == 0 ? app.exit(e) : (app.exit(e), 2);
  }
  try {
    return dcp::cli::run_compare(args);
  } catch (const dcp::Error& e) {
    std::fprintf(stderr, "dcpbench: error: %s\n", e.what());
    return static_cast<int>(e.exit_code());
  }
}
