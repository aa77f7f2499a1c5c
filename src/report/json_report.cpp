#include "report/json_report.hpp"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/bandwidth.hpp"
#include "report/accuracy_json.hpp"
#include "report/context_json.hpp"
#include "report/json_read.hpp"
#include "report/json_write.hpp"
#include "report/report_error.hpp"
#include "report/spec_json.hpp"

namespace dcp::report {

namespace {

using OJ = nlohmann::ordered_json;
using J = nlohmann::json;
using detail::child_path;
using detail::index_path;
using detail::JsonReader;
using detail::number_or_null;
using detail::quote_for_message;

// ---------------------------------------------------------------------------------------------
// Writing

OJ stats_to_json(const SampleStats& s) {
  OJ j;
  j["count"] = s.count;
  j["min"] = number_or_null(s.min);
  j["max"] = number_or_null(s.max);
  j["mean"] = number_or_null(s.mean);
  j["stddev"] = number_or_null(s.stddev);
  j["p5"] = number_or_null(s.p5);
  j["p50"] = number_or_null(s.p50);
  j["p95"] = number_or_null(s.p95);
  j["p99"] = number_or_null(s.p99);
  if (s.median_ci95) {
    j["median_ci95"] =
        OJ::array({number_or_null(s.median_ci95->low), number_or_null(s.median_ci95->high)});
  } else {
    j["median_ci95"] = nullptr;
  }
  return j;
}

OJ timing_to_json(const Timing& t) {
  OJ j;
  j["stats"] = stats_to_json(t.stats);
  j["alg_bw_Bps"] = number_or_null(t.alg_bw_Bps);
  j["bus_bw_Bps"] = number_or_null(t.bus_bw_Bps);
  OJ samples = OJ::array();
  for (double v : t.samples_s)
    samples.push_back(number_or_null(v));
  j["samples_s"] = std::move(samples);
  return j;
}

OJ mismatch_to_json(const Mismatch& m) {
  OJ j;
  j["tensor"] = m.tensor;
  j["dst_rank"] = m.dst_rank;
  j["src_rank"] = m.src_rank;
  j["entry"] = m.entry;
  j["element"] = m.element;
  j["call"] = m.call;
  j["expected_bits"] = m.expected_bits;
  j["actual_bits"] = m.actual_bits;
  return j;
}

OJ verify_to_json(const VerifyOutcome& v) {
  OJ j;
  j["calls_checked"] = v.calls_checked;
  j["rows_checked"] = v.rows_checked;
  j["bad_rows"] = v.bad_rows;
  j["mismatched_elements"] = v.mismatched_elements;
  j["first_mismatch"] = v.first ? mismatch_to_json(*v.first) : OJ(nullptr);
  return j;
}

OJ result_to_json(const CaseResult& r) {
  const Case& c = r.c;
  OJ j;
  j["key"] = c.key();
  j["exchange_key"] = c.exchange_key();
  j["impl"] = r.impl;
  j["op"] = to_string(c.op);
  j["cp_size"] = c.cp_size;
  j["batch"] = c.batch;
  j["tokens"] = c.tokens ? OJ(*c.tokens) : OJ(nullptr);
  j["heads"] = c.heads ? OJ(*c.heads) : OJ(nullptr);
  j["model"] = c.model;
  j["head_dim"] = c.head_dim;
  j["stats_dim"] = c.stats_dim;
  j["lse_base"] = c.lse_base ? OJ(to_string(*c.lse_base)) : OJ(nullptr);
  j["dtype"] = to_string(c.dtype);
  j["launch"] = to_string(c.launch);
  j["pdl"] = c.pdl ? OJ(*c.pdl) : OJ(nullptr);
  j["workspace"] = c.workspace ? OJ(to_string(*c.workspace)) : OJ(nullptr);
  j["status"] = to_string(r.status);
  j["skip_reason"] = r.skip_reason;
  j["error"] = r.error;
  j["bytes_per_rank"] = r.bytes_per_rank;
  j["workspace_bytes"] = r.workspace_bytes;
  j["detail"] = r.detail;
  j["verify"] = verify_to_json(r.verify);
  j["timing"] = r.timing ? timing_to_json(*r.timing) : OJ(nullptr);
  OJ parts = OJ::array();
  for (const PartTiming& part : r.parts) {
    OJ x;
    x["name"] = part.name;
    x["timing"] = timing_to_json(part.timing);
    parts.push_back(std::move(x));
  }
  j["parts"] = std::move(parts);
  j["accuracy"] = r.accuracy ? detail::accuracy_to_json(*r.accuracy) : OJ(nullptr);
  j["hang"] = r.hang ? detail::hang_to_json(*r.hang) : OJ(nullptr);
  return j;
}

OJ floor_to_json(const LaunchFloor& f) {
  OJ j;
  j["launch"] = to_string(f.launch);
  j["cp_size"] = f.cp_size;
  j["timing"] = timing_to_json(f.timing);
  return j;
}

OJ speedup_to_json(const Speedup& s) {
  OJ j;
  j["exchange_key"] = s.exchange_key;
  j["impl"] = s.impl;
  j["impl_key"] = s.impl_key;
  // Schema 1.0 named the measured row "native_key" (only native had speedups then); kept, equal
  // to impl_key, so that 1.0 readers still read 1.1 reports.
  j["native_key"] = s.impl_key;
  j["baseline_impl"] = s.baseline_impl;
  j["speedup"] = number_or_null(s.speedup.value);
  if (s.speedup.ci95) {
    j["speedup_ci95"] =
        OJ::array({number_or_null(s.speedup.ci95->low), number_or_null(s.speedup.ci95->high)});
  } else {
    j["speedup_ci95"] = nullptr;
  }
  return j;
}

// ---------------------------------------------------------------------------------------------
// Reading

/// [low, high] or null.
std::optional<Interval> read_interval(const JsonReader& rd, const J& obj, const std::string& path,
                                      std::string_view key) {
  const J& v = rd.member(obj, path, key);
  const std::string p = child_path(path, key);
  if (v.is_null()) return std::nullopt;
  rd.expect_array(v, p);
  if (v.size() != 2) {
    rd.fail(p, fmt::format("expected [low, high] or null, got an array of {} values", v.size()));
  }
  return Interval{rd.as_number(v[0], index_path(p, 0)), rd.as_number(v[1], index_path(p, 1))};
}

SampleStats read_stats(const JsonReader& rd, const J& obj, const std::string& path) {
  const J& j = rd.object(obj, path, "stats");
  const std::string p = child_path(path, "stats");
  SampleStats s;
  s.count = rd.get_uint64(j, p, "count");
  s.min = rd.get_number(j, p, "min");
  s.max = rd.get_number(j, p, "max");
  s.mean = rd.get_number(j, p, "mean");
  s.stddev = rd.get_number(j, p, "stddev");
  s.p5 = rd.get_number(j, p, "p5");
  s.p50 = rd.get_number(j, p, "p50");
  s.p95 = rd.get_number(j, p, "p95");
  s.p99 = rd.get_number(j, p, "p99");
  s.median_ci95 = read_interval(rd, j, p, "median_ci95");
  return s;
}

Timing read_timing(const JsonReader& rd, const J& j, const std::string& p) {
  rd.expect_object(j, p);
  Timing t;
  t.stats = read_stats(rd, j, p);
  t.alg_bw_Bps = rd.get_number(j, p, "alg_bw_Bps");
  t.bus_bw_Bps = rd.get_number(j, p, "bus_bw_Bps");
  const J& samples = rd.array(j, p, "samples_s");
  const std::string sp = child_path(p, "samples_s");
  t.samples_s.reserve(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i)
    t.samples_s.push_back(rd.as_number(samples[i], index_path(sp, i)));
  return t;
}

template <typename T>
T read_uint_as(const JsonReader& rd, const J& obj, const std::string& path, std::string_view key) {
  const std::uint64_t v = rd.get_uint64(obj, path, key);
  if (v > std::numeric_limits<T>::max()) {
    rd.fail(child_path(path, key), fmt::format("{} is out of range", v));
  }
  return static_cast<T>(v);
}

VerifyOutcome read_verify(const JsonReader& rd, const J& obj, const std::string& path) {
  const J& j = rd.object(obj, path, "verify");
  const std::string p = child_path(path, "verify");
  VerifyOutcome v;
  v.calls_checked = rd.get_uint64(j, p, "calls_checked");
  v.rows_checked = rd.get_uint64(j, p, "rows_checked");
  v.bad_rows = rd.get_uint64(j, p, "bad_rows");
  v.mismatched_elements = rd.get_uint64(j, p, "mismatched_elements");
  const J& m = rd.member(j, p, "first_mismatch");
  if (!m.is_null()) {
    const std::string mp = child_path(p, "first_mismatch");
    rd.expect_object(m, mp);
    Mismatch x;
    x.tensor = rd.get_string(m, mp, "tensor");
    x.dst_rank = rd.get_int(m, mp, "dst_rank");
    x.src_rank = rd.get_int(m, mp, "src_rank");
    x.entry = rd.get_int64(m, mp, "entry");
    x.element = rd.get_int(m, mp, "element");
    x.call = read_uint_as<std::uint32_t>(rd, m, mp, "call");
    x.expected_bits = read_uint_as<std::uint32_t>(rd, m, mp, "expected_bits");
    x.actual_bits = read_uint_as<std::uint32_t>(rd, m, mp, "actual_bits");
    v.first = x;
  }
  return v;
}

template <typename E, typename Parse>
E read_enum(const JsonReader& rd, const J& obj, const std::string& path, std::string_view key,
            Parse parse, const std::string& accepted) {
  const std::string s = rd.get_string(obj, path, key);
  const auto v = parse(s);
  if (!v) {
    rd.fail(child_path(path, key),
            fmt::format("unknown value {}; accepted: {}", quote_for_message(s), accepted));
  }
  return *v;
}

CaseResult read_result(const JsonReader& rd, const J& j, const std::string& p) {
  rd.expect_object(j, p);
  CaseResult r;
  Case& c = r.c;
  // Fields added by schema 1.2 (the op axis, the user's vocabulary) are optional: a 1.1 report
  // measured the exchange, given as entries.
  if (j.contains("op")) c.op = read_enum<Op>(rd, j, p, "op", parse_op, accepted_ops());
  c.cp_size = rd.get_int(j, p, "cp_size");
  c.batch = rd.get_int64(j, p, "batch");
  if (j.contains("tokens") && !j.at("tokens").is_null()) c.tokens = rd.get_int64(j, p, "tokens");
  if (j.contains("heads") && !j.at("heads").is_null()) c.heads = rd.get_int(j, p, "heads");
  if (j.contains("model")) c.model = rd.get_string(j, p, "model");
  c.head_dim = rd.get_int(j, p, "head_dim");
  c.stats_dim = rd.get_int(j, p, "stats_dim");
  if (j.contains("lse_base") && !j.at("lse_base").is_null()) {
    c.lse_base =
        read_enum<LseBase>(rd, j, p, "lse_base", parse_lse_base, accepted_lse_bases() + " or null");
  }
  c.dtype = read_enum<DType>(rd, j, p, "dtype", parse_dtype, accepted_dtypes());
  c.launch = read_enum<LaunchMode>(rd, j, p, "launch", parse_launch, accepted_launches());
  const J& pdl = rd.member(j, p, "pdl");
  if (!pdl.is_null()) c.pdl = rd.as_bool(pdl, child_path(p, "pdl"));
  const J& ws = rd.member(j, p, "workspace");
  if (!ws.is_null()) {
    c.workspace = read_enum<WorkspaceKind>(rd, j, p, "workspace", parse_workspace,
                                           accepted_workspaces() + " or null");
  }
  // The keys are derived data: they must agree with the fields, or compare would match rows
  // that measured different things.
  const std::string key = rd.get_string(j, p, "key");
  if (key != c.key()) {
    rd.fail(child_path(p, "key"), fmt::format("{} does not match the case fields, which give {}",
                                              quote_for_message(key), quote_for_message(c.key())));
  }
  const std::string xkey = rd.get_string(j, p, "exchange_key");
  if (xkey != c.exchange_key()) {
    rd.fail(child_path(p, "exchange_key"),
            fmt::format("{} does not match the case fields, which give {}", quote_for_message(xkey),
                        quote_for_message(c.exchange_key())));
  }
  r.impl = rd.get_string(j, p, "impl");
  r.status = read_enum<CaseStatus>(rd, j, p, "status", parse_case_status,
                                   "ok|verify_failed|skipped|error");
  r.skip_reason = rd.get_string(j, p, "skip_reason");
  r.error = rd.get_string(j, p, "error");
  r.bytes_per_rank = rd.get_uint64(j, p, "bytes_per_rank");
  r.workspace_bytes = rd.get_uint64(j, p, "workspace_bytes");
  r.detail = rd.get_string(j, p, "detail");
  r.verify = read_verify(rd, j, p);
  const J& t = rd.member(j, p, "timing");
  if (!t.is_null()) r.timing = read_timing(rd, t, child_path(p, "timing"));
  if (j.contains("parts")) {
    const J& parts = rd.array(j, p, "parts");
    const std::string pp = child_path(p, "parts");
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const std::string xp = index_path(pp, i);
      rd.expect_object(parts[i], xp);
      PartTiming part;
      part.name = rd.get_string(parts[i], xp, "name");
      part.timing = read_timing(rd, rd.member(parts[i], xp, "timing"), child_path(xp, "timing"));
      r.parts.push_back(std::move(part));
    }
  }
  if (j.contains("accuracy") && !j.at("accuracy").is_null())
    r.accuracy = detail::read_accuracy(rd, j.at("accuracy"), child_path(p, "accuracy"));
  if (j.contains("hang") && !j.at("hang").is_null())
    r.hang = detail::read_hang(rd, j.at("hang"), child_path(p, "hang"));
  return r;
}

LaunchFloor read_floor(const JsonReader& rd, const J& j, const std::string& p) {
  rd.expect_object(j, p);
  LaunchFloor f;
  f.launch = read_enum<LaunchMode>(rd, j, p, "launch", parse_launch, accepted_launches());
  f.cp_size = rd.get_int(j, p, "cp_size");
  f.timing = read_timing(rd, rd.member(j, p, "timing"), child_path(p, "timing"));
  return f;
}

Speedup read_speedup(const JsonReader& rd, const J& j, const std::string& p) {
  rd.expect_object(j, p);
  Speedup s;
  s.exchange_key = rd.get_string(j, p, "exchange_key");
  if (j.contains("impl_key") || j.contains("impl")) {
    s.impl = rd.get_string(j, p, "impl");
    s.impl_key = rd.get_string(j, p, "impl_key");
  } else {
    // A 1.0 report: every speedup was native's, keyed by "native_key".
    s.impl = "native";
    s.impl_key = rd.get_string(j, p, "native_key");
  }
  s.baseline_impl = rd.get_string(j, p, "baseline_impl");
  s.speedup.value = rd.get_number(j, p, "speedup");
  s.speedup.ci95 = read_interval(rd, j, p, "speedup_ci95");
  return s;
}

/// "MAJOR.MINOR" with decimal digits only.
std::optional<std::pair<int, int>> parse_version(std::string_view s) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= s.size()) return std::nullopt;
  auto parse_part = [](std::string_view part) -> std::optional<int> {
    if (part.empty() || part.size() > 6) return std::nullopt;
    int v = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || ptr != part.data() + part.size() || v < 0) return std::nullopt;
    return v;
  };
  const auto major = parse_part(s.substr(0, dot));
  const auto minor = parse_part(s.substr(dot + 1));
  if (!major || !minor) return std::nullopt;
  return std::pair{*major, *minor};
}

void check_schema(const JsonReader& rd, const J& root) {
  if (!root.is_object()) {
    rd.fail_file(fmt::format("not a dcpbench report: the top level is {}, expected an object",
                             detail::describe_type(root)));
  }
  if (!root.contains("schema")) {
    rd.fail("schema", "missing: not a dcpbench report (no schema section)");
  }
  const J& schema = rd.object(root, "", "schema");
  const std::string name = rd.get_string(schema, "schema", "name");
  if (name != kReportSchemaName) {
    rd.fail("schema.name", fmt::format("{} is not a dcpbench run report; expected \"{}\"",
                                       quote_for_message(name), kReportSchemaName));
  }
  const std::string version = rd.get_string(schema, "schema", "version");
  const auto v = parse_version(version);
  if (!v) {
    rd.fail("schema.version", fmt::format("{} is not a version; expected \"MAJOR.MINOR\"",
                                          quote_for_message(version)));
  }
  if (v->first != kReportSchemaMajor) {
    rd.fail("schema.version",
            fmt::format("report schema {} is not supported: this dcpbench reads {}.x (major "
                        "versions are incompatible)",
                        quote_for_message(version), kReportSchemaMajor));
  }
}

SweepSpec read_config(const JsonReader& rd, const J& root) {
  const J& cfg = rd.object(root, "", "config");
  // spec_from_json keeps defaults for absent keys; a report carries every key spec_to_json
  // writes, so an absent one means a damaged report.
  // (Keys that schema 1.2 added, and axes a sweep does not use, may be absent.)
  for (const char* k : {"dtype", "cp_size", "impl", "workspace", "launch", "pdl", "warmup", "iters",
                        "graph_calls", "ring", "seed", "timeout_s", "stress"}) {
    if (!cfg.contains(k)) rd.fail(child_path("config", k), "missing");
  }
  if (!cfg.contains("batch") && !cfg.contains("tokens")) {
    rd.fail(child_path("config", "batch"), "missing (and no tokens)");
  }
  // head_dim is left out only where models give it, stats_dim only where no exchange runs.
  const bool models =
      cfg.contains("model") && cfg.at("model").is_array() && !cfg.at("model").empty();
  if (!models && !cfg.contains("head_dim")) rd.fail(child_path("config", "head_dim"), "missing");
  bool exchange = true;
  if (cfg.contains("op") && cfg.at("op").is_array()) {
    exchange = false;
    for (const auto& v : cfg.at("op"))
      exchange = exchange || v == "exchange";
  }
  if (exchange && !cfg.contains("stats_dim")) {
    rd.fail(child_path("config", "stats_dim"), "missing");
  }
  try {
    return spec_from_json(cfg, SweepSpec{}, rd.origin());
  } catch (const ReportError&) {
    throw;
  } catch (const ConfigError& e) {
    rd.fail("config", e.what());
  }
}

}  // namespace

OJ to_json(const RunReport& report) {
  OJ j;
  OJ schema;
  schema["name"] = kReportSchemaName;
  schema["version"] = fmt::format("{}.{}", kReportSchemaMajor, kReportSchemaMinor);
  schema["units"] = "seconds (_s, stats), bytes (_bytes), bytes per second (_Bps)";
  schema["bus_bw"] = "alltoall: bus_bw = alg_bw * (n - 1) / n (nccl-tests doc/PERFORMANCE.md)";
  j["schema"] = std::move(schema);
  j["context"] = context_to_json(report.context);
  j["config"] = spec_to_json(report.spec);
  OJ floors = OJ::array();
  for (const auto& f : report.launch_floors)
    floors.push_back(floor_to_json(f));
  j["launch_floors"] = std::move(floors);
  OJ results = OJ::array();
  for (const auto& r : report.results)
    results.push_back(result_to_json(r));
  j["results"] = std::move(results);
  OJ speedups = OJ::array();
  for (const auto& s : report.speedups)
    speedups.push_back(speedup_to_json(s));
  j["speedups"] = std::move(speedups);
  return j;
}

void write_json(const RunReport& report, std::ostream& out) {
  detail::write_pretty(to_json(report), out);
}

RunReport run_report_from_json(const J& j, std::string_view origin) {
  const JsonReader rd("report", std::string(origin));
  check_schema(rd, j);
  RunReport report;
  report.context = context_from_json(rd.object(j, "", "context"), "report", origin, "context");
  report.spec = read_config(rd, j);
  {
    const J& floors = rd.array(j, "", "launch_floors");
    for (std::size_t i = 0; i < floors.size(); ++i)
      report.launch_floors.push_back(read_floor(rd, floors[i], index_path("launch_floors", i)));
  }
  {
    const J& results = rd.array(j, "", "results");
    report.results.reserve(results.size());
    for (std::size_t i = 0; i < results.size(); ++i)
      report.results.push_back(read_result(rd, results[i], index_path("results", i)));
  }
  {
    const J& speedups = rd.array(j, "", "speedups");
    for (std::size_t i = 0; i < speedups.size(); ++i)
      report.speedups.push_back(read_speedup(rd, speedups[i], index_path("speedups", i)));
  }
  return report;
}

RunReport parse_run_report(std::string_view text, std::string_view origin) {
  return run_report_from_json(parse_json(text, JsonSource{"report", std::string(origin)}), origin);
}

RunReport read_run_report(const std::string& path) {
  return parse_run_report(read_text_file(JsonSource{"report", path}), path);
}

}  // namespace dcp::report
