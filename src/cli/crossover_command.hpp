#pragma once
/// @file
/// `dcpbench crossover REPORT.json... [-o FILE]`: derives native-auto's crossover (kernels/
/// crossover.hpp) from run reports that measured `native` and `native-direct` on this machine
/// (graph mode), prints the rules and writes them atomically (default configs/crossover.txt).
/// No CUDA, no MPI. Exit 0; 2 for an unusable report or one without both strategies.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dcp::cli {

struct CrossoverArgs {
  std::vector<std::string> reports;           ///< the run reports to read (results joined)
  std::string out = "configs/crossover.txt";  ///< -o, --out FILE
};

CLI::App* add_crossover_subcommand(CLI::App& app, CrossoverArgs& args);
int run_crossover(const CrossoverArgs& args);

}  // namespace dcp::cli
