#include "cli/run_options.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <limits>

#include "cli/config_file.hpp"
#include "core/error.hpp"
#include "core/impl_names.hpp"

namespace dcp::cli {

namespace {

std::int64_t parse_int(const std::string& text, const char* field, const char* accepted) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    throw ConfigError(
        fmt::format("{}: '{}' is not an integer; accepted: {}", field, text, accepted));
  }
  return v;
}

int parse_int32(const std::string& text, const char* field, const char* accepted) {
  const std::int64_t v = parse_int(text, field, accepted);
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    throw ConfigError(fmt::format("{}: {} is out of range; accepted: {}", field, v, accepted));
  }
  return static_cast<int>(v);
}

double parse_double(const std::string& text, const char* field, const char* accepted) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw ConfigError(fmt::format("{}: '{}' is not a number; accepted: {}", field, text, accepted));
}

template <typename T, typename Parse>
std::vector<T> parse_names(const std::vector<std::string>& items, const char* field,
                           const std::string& accepted, Parse parse) {
  std::vector<T> out;
  for (const auto& s : items) {
    auto v = parse(s);
    if (!v)
      throw ConfigError(fmt::format("{}: unknown value '{}'; accepted: {}", field, s, accepted));
    out.push_back(*v);
  }
  return out;
}

}  // namespace

void add_sweep_options(CLI::App& app, RunArgs& a) {
  const SweepSpec d = default_spec();
  auto join = [](const auto& v) {
    std::string s;
    for (const auto& x : v)
      s += (s.empty() ? "" : ",") + fmt::format("{}", x);
    return s;
  };
  auto join_named = [](const auto& v) {
    std::string s;
    for (const auto& x : v)
      s += (s.empty() ? "" : ",") + std::string(to_string(x));
    return s;
  };
  app.add_option("--config", a.config,
                 "Sweep config file (JSON, see configs/); its keys replace the built-in default's "
                 "(configs/default.json), and flags replace both");
  app.add_option(
         "-b,--batch", a.batch,
         fmt::format("Batch sizes E (>= 0; 0 = empty exchange) [default: {}]", join(d.axes.batch)))
      ->delimiter(',')
      ->allow_extra_args(false);
  app.add_option("--head-dim", a.head_dim,
                 fmt::format("D, elements per partial_o row; D x 2 bytes must be a multiple of 16 "
                             "[default: {}]",
                             join(d.axes.head_dim)))
      ->delimiter(',');
  app.add_option("--stats-dim", a.stats_dim,
                 fmt::format("S, fp32 softmax stats per row (even, >= 2) [default: {}]",
                             join(d.axes.stats_dim)))
      ->delimiter(',');
  app.add_option("-d,--dtype", a.dtype,
                 fmt::format("partial_o element type: {} [default: {}]", accepted_dtypes(),
                             join_named(d.axes.dtype)))
      ->delimiter(',');
  app.add_option("--cp-size", a.cp_size,
                 "Ranks in the exchange [default: the MPI world size; any 1..64 with --workspace "
                 "sim; one rank without it simulates 2,4]")
      ->delimiter(',');
  app.add_option("--impl", a.impl,
                 fmt::format("Implementations: {} [default: {}]", accepted_impls(),
                             join(effective_impls(d.axes))))
      ->delimiter(',');
  app.add_option("--workspace", a.workspace,
                 fmt::format("Native workspace: {} [default: {}]", accepted_workspaces(),
                             join_named(d.axes.workspace)))
      ->delimiter(',');
  app.add_option("--launch", a.launch,
                 fmt::format("Launch modes: {} [default: {}]", accepted_launches(),
                             join_named(d.axes.launch)))
      ->delimiter(',');
  std::string pdl_default;
  for (bool p : d.axes.pdl)
    pdl_default += (pdl_default.empty() ? "" : ",") + std::string(p ? "on" : "off");
  app.add_option(
         "--pdl", a.pdl,
         fmt::format("Programmatic dependent launch for native: on|off [default: {}]", pdl_default))
      ->delimiter(',');
  app.add_option("-w,--warmup", a.warmup,
                 fmt::format("Untimed calls before timing [default: {}]", d.measure.warmup));
  app.add_option("-n,--iters", a.iters,
                 fmt::format("Timed samples per case [default: {}]", d.measure.iters));
  app.add_option("--graph-calls", a.graph_calls,
                 fmt::format("Exchanges per graph replay / pipelined sample; times are reported "
                             "per exchange [default: {}]",
                             d.measure.graph_calls));
  app.add_option("--ring", a.ring,
                 fmt::format("Distinct input/output sets cycled by timed calls, all verified "
                             "(>= {}) [default: {}]",
                             kMinRingSize, d.measure.ring));
  app.add_option("--seed", a.seed, fmt::format("Data pattern seed [default: {}]", d.measure.seed));
  app.add_option("-T,--timeout", a.timeout,
                 fmt::format("Seconds any wait on a peer may take before the job fails (exit 3) "
                             "[default: {}]",
                             d.measure.timeout_s));
  app.add_option("--stress", a.stress,
                 "Instead of timing, run N exchanges per case with fresh inputs every call and "
                 "check every row [default: 0 = off]");
  app.add_option("--inject", a.inject,
                 fmt::format("Testing aid: make a rank misbehave, KIND[:rank] with KIND one of {}",
                             accepted_faults()));
}

void add_output_options(CLI::App& app, RunArgs& a) {
  app.add_option("-J,--json", a.json_out,
                 fmt::format("JSON report file (written atomically by rank 0) [default: {}]",
                             kDefaultJsonOut));
  app.add_option(
      "--csv", a.csv_out,
      fmt::format("CSV report file, one row per case and impl [default: {}]", kDefaultCsvOut));
  app.add_flag("--no-files", a.no_files, "Print the table only; write no JSON/CSV files");
  app.add_flag("-q,--quiet", a.quiet, "No progress line on stderr");
}

SweepSpec build_spec(const RunArgs& a) {
  SweepSpec s = a.config.empty() ? default_spec() : load_config(a.config);
  SweepAxes& x = s.axes;
  MeasureOptions& m = s.measure;
  auto ints = [](const std::vector<std::string>& items, const char* field, const char* accepted) {
    std::vector<int> out;
    for (const auto& t : items)
      out.push_back(parse_int32(t, field, accepted));
    return out;
  };
  if (!a.batch.empty()) {
    x.batch.clear();
    for (const auto& t : a.batch)
      x.batch.push_back(parse_int(t, "batch", "integers >= 0"));
  }
  if (!a.head_dim.empty()) x.head_dim = ints(a.head_dim, "head_dim", "positive multiples of 8");
  if (!a.stats_dim.empty()) x.stats_dim = ints(a.stats_dim, "stats_dim", "even integers >= 2");
  if (!a.cp_size.empty()) x.cp_size = ints(a.cp_size, "cp_size", "integers 1..64");
  if (!a.dtype.empty())
    x.dtype = parse_names<DType>(a.dtype, "dtype", accepted_dtypes(), parse_dtype);
  if (!a.workspace.empty())
    x.workspace = parse_names<WorkspaceKind>(a.workspace, "workspace", accepted_workspaces(),
                                             parse_workspace);
  if (!a.launch.empty())
    x.launch = parse_names<LaunchMode>(a.launch, "launch", accepted_launches(), parse_launch);
  if (!a.impl.empty()) x.impl = a.impl;
  if (!a.pdl.empty()) {
    x.pdl.clear();
    for (const auto& t : a.pdl) {
      if (t == "on") {
        x.pdl.push_back(true);
      } else if (t == "off") {
        x.pdl.push_back(false);
      } else {
        throw ConfigError(fmt::format("pdl: unknown value '{}'; accepted: on|off", t));
      }
    }
  }
  if (a.warmup) m.warmup = parse_int32(*a.warmup, "warmup", "integers >= 0");
  if (a.iters) m.iters = parse_int32(*a.iters, "iters", "integers >= 1");
  if (a.graph_calls) m.graph_calls = parse_int32(*a.graph_calls, "graph_calls", "integers >= 1");
  if (a.ring) m.ring = parse_int32(*a.ring, "ring", "integers >= 5");
  if (a.seed) {
    const std::int64_t v = parse_int(*a.seed, "seed", "integers >= 0");
    if (v < 0) throw ConfigError(fmt::format("seed: {} is negative; accepted: integers >= 0", v));
    m.seed = static_cast<std::uint64_t>(v);
  }
  if (a.timeout) m.timeout_s = parse_double(*a.timeout, "timeout", "seconds in (0, 86400]");
  if (a.stress) m.stress_calls = parse_int(*a.stress, "stress", "integers >= 0");
  if (a.inject) m.inject = parse_fault(*a.inject);
  validate(s);
  return s;
}

std::vector<std::string> resolve_for_world(SweepSpec& spec, int world_size) {
  std::vector<std::string> notes;
  SweepAxes& x = spec.axes;
  const bool auto_or_sim = std::all_of(x.workspace.begin(), x.workspace.end(), [](WorkspaceKind w) {
    return w == WorkspaceKind::kAuto || w == WorkspaceKind::kSim;
  });
  if (world_size == 1 && x.cp_size.empty() && auto_or_sim) {
    x.cp_size = {2, 4};
    x.workspace = {WorkspaceKind::kSim};
    notes.push_back(
        "single rank and no --cp-size: simulating cp=2 and cp=4 on this one GPU (native only; "
        "the NCCL baselines need one GPU per rank and are skipped). Run under mpirun -np N for "
        "real GPUs.");
  }
  validate_for_world(spec, world_size);
  return notes;
}

}  // namespace dcp::cli
