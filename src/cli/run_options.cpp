#include "cli/run_options.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <limits>

#include "cli/config_file.hpp"
#include "core/error.hpp"
#include "core/models.hpp"
#include "report/atomic_file.hpp"
#include "report/spec_json.hpp"

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

/// Every entry of a list flag: each occurrence's text split at commas (split_list refuses empty
/// and blank entries, naming the field).
std::vector<std::string> entries(const std::vector<std::string>& texts, const char* field,
                                 const std::string& accepted) {
  std::vector<std::string> out;
  for (const auto& text : texts) {
    for (auto& e : split_list(text, field, accepted))
      out.push_back(std::move(e));
  }
  return out;
}

template <typename T, typename Parse>
std::vector<T> parse_names(const std::vector<std::string>& texts, const char* field,
                           const std::string& accepted, Parse parse) {
  std::vector<T> out;
  for (const auto& s : entries(texts, field, accepted)) {
    auto v = parse(s);
    if (!v)
      throw ConfigError(fmt::format("{}: unknown value '{}'; accepted: {}", field, s, accepted));
    out.push_back(*v);
  }
  return out;
}

}  // namespace

void add_sweep_options(CLI::App& app, RunArgs& a, const ImplCatalog& catalog) {
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
  app.add_option("--op", a.op,
                 fmt::format("Operations: {}; exchange = the all-to-all alone, reduce = exchange "
                             "then the LSE merge into out[tokens, heads, D] and lse_out on every "
                             "rank [default: {}; exchange,reduce with --tokens or --model]",
                             accepted_ops(), join_named(d.axes.op)))
      ->allow_extra_args(false);
  app.add_option("--tokens", a.tokens,
                 "Decode tokens (>= 1); with --heads or --model, E = tokens x heads per rank "
                 "(the user's view; not with --batch)")
      ->allow_extra_args(false);
  app.add_option("--heads", a.heads,
                 "Query heads per rank (>= 1); with --model, a divisor of its query heads (its "
                 "heads per rank at another TP)")
      ->allow_extra_args(false);
  app.add_option("--model", a.model,
                 fmt::format("Model presets (configs/models/, `dcpbench list --models`): {}; each "
                             "sets heads per rank, head_dim and the LSE base",
                             accepted_models()))
      ->allow_extra_args(false);
  app.add_option("--lse-base", a.lse_base,
                 fmt::format("Base of the LSEs for --op reduce: {} [default: the model's, else e]",
                             accepted_lse_bases()))
      ->allow_extra_args(false);
  app.add_option(
         "-b,--batch", a.batch,
         fmt::format("Batch sizes E (>= 0; 0 = empty exchange) [default: {}]", join(d.axes.batch)))
      ->allow_extra_args(false);
  app.add_option("--head-dim", a.head_dim,
                 fmt::format("D, elements per partial_o row; D x 2 bytes must be a multiple of 16 "
                             "[default: {}]",
                             join(d.axes.head_dim)))
      ->allow_extra_args(false);
  app.add_option("--stats-dim", a.stats_dim,
                 fmt::format("S, fp32 softmax stats per row (even, >= 2) [default: {}]",
                             join(d.axes.stats_dim)))
      ->allow_extra_args(false);
  app.add_option("-d,--dtype", a.dtype,
                 fmt::format("partial_o element type: {} [default: {}]", accepted_dtypes(),
                             join_named(d.axes.dtype)))
      ->allow_extra_args(false);
  app.add_option("--cp-size", a.cp_size,
                 fmt::format("Ranks in the exchange [default: the MPI world size; any 1..{} with "
                             "--workspace sim; one rank without it simulates 2,4]",
                             kMaxCpSize))
      ->allow_extra_args(false);
  app.add_option("--impl", a.impl,
                 fmt::format("Implementations: {} (`dcpbench list --impls` describes them) "
                             "[default: {}]",
                             catalog.accepted(), join(effective_impls(d.axes, catalog))))
      ->allow_extra_args(false);
  app.add_option("--workspace", a.workspace,
                 fmt::format("Native workspace: {} [default: {}]", accepted_workspaces(),
                             join_named(d.axes.workspace)))
      ->allow_extra_args(false);
  app.add_option("--launch", a.launch,
                 fmt::format("Launch modes: {} [default: {}]", accepted_launches(),
                             join_named(d.axes.launch)))
      ->allow_extra_args(false);
  std::string pdl_default;
  for (bool p : d.axes.pdl)
    pdl_default += (pdl_default.empty() ? "" : ",") + std::string(p ? "on" : "off");
  app.add_option(
         "--pdl", a.pdl,
         fmt::format("Programmatic dependent launch for native: on|off [default: {}]", pdl_default))
      ->allow_extra_args(false);
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
  app.add_flag("--allow-unvalidated-path", a.allow_unvalidated_path,
               "Run LL128 strategies over rank pairs whose path is not validated for LL128's "
               "ordering contract (not NVLink); the report says so");
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

namespace {

/// The flags that say what is computed; any of them replaces a config's blocks.
bool has_shape_flags(const RunArgs& a) {
  return !a.op.empty() || !a.batch.empty() || !a.tokens.empty() || !a.heads.empty() ||
         !a.model.empty() || !a.head_dim.empty() || !a.stats_dim.empty() || !a.lse_base.empty();
}

std::vector<int> ints(const std::vector<std::string>& texts, const char* field,
                      const std::string& accepted) {
  std::vector<int> out;
  for (const auto& t : entries(texts, field, accepted))
    out.push_back(parse_int32(t, field, accepted.c_str()));
  return out;
}

/// The shape flags on `x`.
void apply_shape_flags(const RunArgs& a, SweepAxes& x) {
  if (!a.batch.empty() && !a.tokens.empty()) {
    throw ConfigError(
        "batch: --batch (entries) and --tokens (E = tokens x heads) are two vocabularies for one "
        "shape; accepted: one of them");
  }
  if (!a.op.empty()) {
    x.op = parse_names<Op>(a.op, "op", accepted_ops(), parse_op);
  } else if (!a.tokens.empty() || !a.model.empty()) {
    // Shapes in the user's terms ask the user's question: which path for my model. Every
    // strategy runs, each for the operations its row implements (exchange and reduce).
    x.op = {Op::kExchange, Op::kReduce};
  }
  if (!a.batch.empty()) {
    x.batch.clear();
    for (const auto& t : entries(a.batch, "batch", "integers >= 0"))
      x.batch.push_back(parse_int(t, "batch", "integers >= 0"));
    x.tokens.clear();  // the entries vocabulary
    x.heads.clear();
    x.model.clear();
  }
  if (!a.tokens.empty()) {
    x.tokens.clear();
    for (const auto& t : entries(a.tokens, "tokens", "integers >= 1"))
      x.tokens.push_back(parse_int(t, "tokens", "integers >= 1"));
  }
  if (!a.heads.empty()) x.heads = ints(a.heads, "heads", "integers >= 1 (query heads per rank)");
  if (!a.model.empty()) x.model = entries(a.model, "model", accepted_models());
  if (!a.lse_base.empty()) {
    x.lse_base = parse_names<LseBase>(a.lse_base, "lse_base", accepted_lse_bases(), parse_lse_base);
  }
  if (!a.head_dim.empty()) x.head_dim = ints(a.head_dim, "head_dim", "positive multiples of 8");
  if (!a.stats_dim.empty()) x.stats_dim = ints(a.stats_dim, "stats_dim", "even integers >= 2");
  report::check_explicit_shape(x, !a.head_dim.empty(), !a.stats_dim.empty());
  report::reset_unused_axes(x);
}

/// The flags that say how and where to run, on `x`.
void apply_run_flags(const RunArgs& a, SweepAxes& x) {
  if (!a.cp_size.empty()) {
    x.cp_size = ints(a.cp_size, "cp_size", fmt::format("integers 1..{}", kMaxCpSize));
  }
  if (!a.dtype.empty())
    x.dtype = parse_names<DType>(a.dtype, "dtype", accepted_dtypes(), parse_dtype);
  if (!a.workspace.empty())
    x.workspace = parse_names<WorkspaceKind>(a.workspace, "workspace", accepted_workspaces(),
                                             parse_workspace);
  if (!a.launch.empty())
    x.launch = parse_names<LaunchMode>(a.launch, "launch", accepted_launches(), parse_launch);
  if (!a.impl.empty()) x.impl = entries(a.impl, "impl", "implementation names");
  if (!a.pdl.empty()) {
    x.pdl.clear();
    for (const auto& t : entries(a.pdl, "pdl", "on|off")) {
      if (t == "on") {
        x.pdl.push_back(true);
      } else if (t == "off") {
        x.pdl.push_back(false);
      } else {
        throw ConfigError(fmt::format("pdl: unknown value '{}'; accepted: on|off", t));
      }
    }
  }
}

}  // namespace

SweepSpec build_spec(const RunArgs& a) {
  SweepSpec s = a.config.empty() ? default_spec() : load_config(a.config);
  MeasureOptions& m = s.measure;
  if (has_shape_flags(a)) {
    s.blocks.clear();
    apply_shape_flags(a, s.axes);
  }
  apply_run_flags(a, s.axes);
  for (SweepAxes& b : s.blocks)
    apply_run_flags(a, b);
  if (a.warmup) m.warmup = parse_int32(*a.warmup, "warmup", "integers >= 0");
  if (a.iters) m.iters = parse_int32(*a.iters, "iters", "integers >= 1");
  if (a.graph_calls) m.graph_calls = parse_int32(*a.graph_calls, "graph_calls", "integers >= 1");
  if (a.ring) {
    m.ring = parse_int32(*a.ring, "ring", fmt::format("integers >= {}", kMinRingSize).c_str());
  }
  if (a.seed) {
    const std::int64_t v = parse_int(*a.seed, "seed", "integers >= 0");
    if (v < 0) throw ConfigError(fmt::format("seed: {} is negative; accepted: integers >= 0", v));
    m.seed = static_cast<std::uint64_t>(v);
  }
  if (a.timeout) {
    m.timeout_s = parse_double(*a.timeout, "timeout",
                               fmt::format("seconds in (0, {}]", kMaxTimeoutS).c_str());
  }
  if (a.stress) m.stress_calls = parse_int(*a.stress, "stress", "integers >= 0");
  if (a.inject) m.inject = parse_fault(*a.inject);
  if (a.allow_unvalidated_path) m.allow_unvalidated_path = true;
  validate(s);
  return s;
}

std::optional<OutputFiles> output_files(const RunArgs& a) {
  if (a.no_files) return std::nullopt;
  OutputFiles f{a.json_out.empty() ? kDefaultJsonOut : a.json_out,
                a.csv_out.empty() ? kDefaultCsvOut : a.csv_out};
  report::require_writable(f.json, "json");
  report::require_writable(f.csv, "csv");
  return f;
}

}  // namespace dcp::cli
