/// @file
/// libFuzzer target: the flags of `run`/`list` (cli::build_spec, dcp::parse_fault, and CLI11's
/// parsing of the options cli::add_sweep_options/add_output_options register).
///
/// Input: lines ('\n'-separated); byte 0 picks the mode and the rest of the first line is ignored.
///   even byte 0 (e.g. '0')  fields: each line is a selector byte and a value, stored in
///       cli::RunArgs as main would after CLI11 (a list field gets one more text, which
///       build_spec splits at ','), then build_spec.
///       Selectors: b batch, h head_dim, s stats_dim, d dtype, c cp_size, i impl, w workspace,
///       l launch, p pdl, W warmup, n iters, g graph_calls, r ring, S seed, T timeout,
///       x stress, j inject, C config, o op, t tokens, H heads, M model, L lse_base,
///       U allow_unvalidated_path (set, value ignored); any other byte selects field
///       (byte % 24) in that order.
///       Example: "0\nb1,16\nhfoo\njcorrupt-line:1".
///   odd byte 0 (e.g. '1')   argv: each line is one command-line argument, parsed by CLI11 with
///       run's options, then build_spec. Example: "1\n--batch\n1,16\n-n\n10".
/// --config never reaches the file system with fuzzed text: a value naming one of configs/
/// ("default", "decode-mla", "regression", "thresholds") loads that file, anything else is
/// dropped (config files are fuzz_config_json's job).
///
/// Expected on any input: a spec or a dcp::ConfigError (CLI::ParseError in argv mode, which
/// main turns into exit 2); anything else is a bug. Oracles on an accepted spec: it validates
/// again; spec_to_json -> spec_from_json gives it back; resolve_sweep (against the metadata
/// catalog of the shipped implementations, tests/common/metadata_catalog.hpp: host-only builds
/// have no factories) gives a sweep or a ConfigError for world sizes 1, 2 and 8; and when the
/// sweep is small, its runs are exactly the product of the axes (pdl/workspace counted only for
/// the rows whose traits say they apply), each pointing at its row.
///
/// Seeds: tests/fuzz/corpus/run_flags/. Dictionary: tests/fuzz/run_flags.dict.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/run_options.hpp"
#include "core/error.hpp"
#include "core/resolve.hpp"
#include "fuzz_support.hpp"

namespace {

using dcp::cli::RunArgs;

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(sep, start);
    out.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

/// A --config value: one of configs/ by name, else none (never a fuzzed path).
std::string config_path(const std::string& value) {
  for (const char* name :
       {"default", "decode-mla", "regression", "thresholds", "reduce-deepseek-v3"}) {
    if (value == name || value == std::string("configs/") + name + ".json") {
      return std::string(DCP_SOURCE_DIR) + "/configs/" + name + ".json";
    }
  }
  return {};
}

/// Field selectors of fields mode, in the order of their numeric fallback.
constexpr std::string_view kSelectors = "bhsdciwlpWngrSTxjCotHMLU";

void set_field(RunArgs& a, char selector, const std::string& value) {
  std::size_t index = kSelectors.find(selector);
  if (index == std::string_view::npos) {
    index = static_cast<unsigned char>(selector) % kSelectors.size();
  }
  switch (index) {
    case 0:
      a.batch.push_back(value);
      break;
    case 1:
      a.head_dim.push_back(value);
      break;
    case 2:
      a.stats_dim.push_back(value);
      break;
    case 3:
      a.dtype.push_back(value);
      break;
    case 4:
      a.cp_size.push_back(value);
      break;
    case 5:
      a.impl.push_back(value);
      break;
    case 6:
      a.workspace.push_back(value);
      break;
    case 7:
      a.launch.push_back(value);
      break;
    case 8:
      a.pdl.push_back(value);
      break;
    case 9:
      a.warmup = value;
      break;
    case 10:
      a.iters = value;
      break;
    case 11:
      a.graph_calls = value;
      break;
    case 12:
      a.ring = value;
      break;
    case 13:
      a.seed = value;
      break;
    case 14:
      a.timeout = value;
      break;
    case 15:
      a.stress = value;
      break;
    case 16:
      a.inject = value;
      break;
    case 17:
      a.config = config_path(value);
      break;
    case 18:
      a.op.push_back(value);
      break;
    case 19:
      a.tokens.push_back(value);
      break;
    case 20:
      a.heads.push_back(value);
      break;
    case 21:
      a.model.push_back(value);
      break;
    case 22:
      a.lse_base.push_back(value);
      break;
    default:
      a.allow_unvalidated_path = true;
      break;
  }
}

/// RunArgs from argv lines through CLI11; nullopt when CLI11 refuses them.
std::optional<RunArgs> parse_argv(const std::vector<std::string>& lines) {
  RunArgs a;
  CLI::App app{"fuzz", "dcpbench"};
  dcp::cli::add_sweep_options(app, a, dcp::testing::metadata_catalog());
  dcp::cli::add_output_options(app, a);
  std::vector<std::string> args(lines.rbegin(), lines.rend());  // CLI11 takes it reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  if (!a.config.empty()) a.config = config_path(a.config);
  return a;
}

/// a * b, saturating at UINT64_MAX.
std::uint64_t mul_sat(std::uint64_t a, std::uint64_t b) {
  std::uint64_t out = 0;
  return __builtin_mul_overflow(a, b, &out) ? UINT64_MAX : out;
}

/// Runs expand() must give for the exchange: the product of the axes, over the rows that implement
/// the exchange, pdl/workspace only for the impls they apply to (saturating).
std::uint64_t expected_runs(const dcp::SweepSpec& s) {
  const dcp::SweepAxes& x = s.axes;
  std::uint64_t per_impl = 0;
  for (const auto& impl : dcp::effective_impls(x, dcp::testing::metadata_catalog())) {
    const dcp::ImplInfo& row = dcp::testing::metadata_catalog().at(impl);
    if (!row.ops.contains(dcp::Op::kExchange)) continue;  // reduce-only rows: no exchange runs
    const dcp::ImplTraits& t = row.traits;
    const std::uint64_t rows =
        mul_sat(t.uses_pdl ? x.pdl.size() : 1, t.uses_workspace ? x.workspace.size() : 1);
    if (__builtin_add_overflow(per_impl, rows, &per_impl)) per_impl = UINT64_MAX;
  }
  std::uint64_t n = per_impl;
  for (const std::size_t axis :
       {x.cp_size.empty() ? std::size_t{1} : x.cp_size.size(), x.dtype.size(), x.head_dim.size(),
        x.stats_dim.size(), x.batch.size(), x.launch.size()}) {
    n = mul_sat(n, axis);
  }
  return n;
}

void check_spec(const dcp::SweepSpec& spec) {
  dcp::fuzz::check_spec_round_trip(spec);
  for (int world : {1, 2, 8}) {
    // Expanding is the user's choice of size; keep the fuzzer's memory bounded (resolve_sweep
    // expands, so it is only called for small sweeps).
    constexpr std::uint64_t kMaxRuns = 4096;
    dcp::SweepSpec sized = spec;
    if (sized.axes.cp_size.empty()) sized.axes.cp_size = {2, 4};  // at most two cp values
    try {
      if (expected_runs(sized) > kMaxRuns) continue;
    } catch (const dcp::ConfigError&) {
      continue;  // an unknown implementation name: resolve_sweep refuses it below too
    }
    dcp::ResolvedSweep resolved;
    try {
      resolved = dcp::resolve_sweep(spec, dcp::testing::metadata_catalog(), world);
    } catch (const dcp::ConfigError&) {
      continue;
    }
    // The run count is predicted for the entries vocabulary of the exchange alone (the product
    // of the axes); sweeps with blocks, the reduce op or the tokens x heads vocabulary are
    // checked by the invariants below instead (each run's op implemented by its row, reduce runs
    // with one LSE per row and a base, tokens runs with E = tokens x heads).
    const dcp::SweepAxes& x = resolved.spec.axes;
    const bool entries_exchange_only = resolved.spec.blocks.empty() && x.tokens.empty() &&
                                       x.model.empty() &&
                                       x.op == std::vector<dcp::Op>{dcp::Op::kExchange};
    if (entries_exchange_only) {
      const std::uint64_t want = expected_runs(resolved.spec);
      if (resolved.runs.size() != want) {
        dcp::fuzz::fail("resolve_sweep() gave the wrong number of runs",
                        std::to_string(resolved.runs.size()) + " != " + std::to_string(want));
      }
    }
    for (const auto& r : resolved.runs) {
      if (!r.info || r.info->name != r.impl) dcp::fuzz::fail("a run does not point at its row");
      if (!r.info->ops.contains(r.c.op))
        dcp::fuzz::fail("a run's op is not one its row implements");
      if (r.c.op == dcp::Op::kReduce && (r.c.stats_dim != 1 || !r.c.lse_base)) {
        dcp::fuzz::fail("a reduce run without one LSE per row and a base", r.c.key());
      }
      if (r.c.tokens && (!r.c.heads || r.c.batch != *r.c.tokens * *r.c.heads)) {
        dcp::fuzz::fail("a tokens run whose E is not tokens x heads", r.c.key());
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool argv_mode = (data[0] & 1) != 0;
  // Lines after the first (whose first byte is the mode; the rest of it is ignored).
  std::vector<std::string> lines =
      split(std::string_view(reinterpret_cast<const char*>(data), size), '\n');
  lines.erase(lines.begin());
  std::optional<RunArgs> args;
  if (argv_mode) {
    args = parse_argv(lines);
  } else {
    args.emplace();
    for (const auto& line : lines) {
      if (!line.empty()) set_field(*args, line[0], line.substr(1));
    }
  }
  if (!args) return 0;
  dcp::SweepSpec spec;
  try {
    spec = dcp::cli::build_spec(*args);
  } catch (const dcp::ConfigError&) {
    return 0;
  }
  check_spec(spec);
  return 0;
}
