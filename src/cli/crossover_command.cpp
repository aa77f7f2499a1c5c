#include "cli/crossover_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <vector>

#include "core/error.hpp"
#include "kernels/crossover.hpp"
#include "report/atomic_file.hpp"
#include "report/json_report.hpp"

namespace dcp::cli {

CLI::App* add_crossover_subcommand(CLI::App& app, CrossoverArgs& args) {
  CLI::App* sub = app.add_subcommand(
      "crossover",
      "Derive native-auto's crossover (from which E native-direct beats native, per op and cp) "
      "from a run report that measured both in graph mode on this machine, and write it");
  sub->add_option("reports", args.reports,
                  "Run reports (JSON) with native and native-direct rows; their results are joined")
      ->required();
  sub->add_option("-o,--out", args.out, "Crossover file to write [default: configs/crossover.txt]");
  return sub;
}

int run_crossover(const CrossoverArgs& args) {
  std::vector<CaseResult> results;
  std::string gpu = "unknown GPU";
  std::string when;
  std::string sha;
  for (const std::string& path : args.reports) {
    RunReport r = report::read_run_report(path);
    if (!r.context.ranks.empty()) gpu = r.context.ranks[0].gpu_name;
    when = r.context.utc_time;
    sha = r.context.git_sha;
    results.insert(results.end(), r.results.begin(), r.results.end());
  }
  const kernels::Crossover x =
      kernels::derive_crossover(results, "native", "native-direct",
                                fmt::format("measured on {} ({}), reports {}, dcpbench git {}", gpu,
                                            when, fmt::join(args.reports, " "), sha));
  if (x.rules.empty()) {
    throw ConfigError(fmt::format(
        "reports: {} hold no graph-mode rows of both native and native-direct at one (op, cp, "
        "head_dim); accepted: reports of e.g. dcpbench --impl native,native-direct --launch graph",
        fmt::join(args.reports, " ")));
  }
  const std::string text = kernels::format_crossover(x);
  report::write_file_atomically(args.out, [&](std::ostream& os) { os << text; });
  std::cout << text << "dcpbench: wrote " << args.out << '\n';
  return 0;
}

}  // namespace dcp::cli
