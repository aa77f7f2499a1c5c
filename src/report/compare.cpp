// Why one file of ~640 lines: matching the rows of two reports and every verdict rule (SAME,
// FASTER, SLOWER, NOISY, MISSING, NEW, VERIFY_CHANGED, LESS_EXACT, ENV_CHANGED) decide together
// what one row becomes; printing lives in compare_report.cpp.
#include "report/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "report/json_read.hpp"
#include "report/json_report.hpp"
#include "report/report_error.hpp"
#include "report/spec_json.hpp"
#include "report/text_table.hpp"

namespace dcp::report {

namespace {

using J = nlohmann::json;
using OJ = nlohmann::ordered_json;

constexpr double kMaxPercent = 1000.0;
constexpr double kMaxAbsDeltaS = 1.0;
constexpr double kMaxUlpGrowth = 1e6;

// ---------------------------------------------------------------------------------------------
// Thresholds

double read_percent(const detail::JsonReader& rd, const J& j, std::string_view key) {
  const J& v = rd.member(j, "", key);
  if (!v.is_number()) {
    rd.fail(key, fmt::format("expected a number (percent), got {}", detail::describe_type(v)));
  }
  const double pct = v.get<double>();
  if (!(pct > 0.0 && pct <= kMaxPercent)) {
    rd.fail(key, fmt::format("{} is out of range; accepted: percent in (0, {}]", pct, kMaxPercent));
  }
  return pct / 100.0;
}

// ---------------------------------------------------------------------------------------------
// Comparison

/// Statuses that count as a failure of the row in NEW.
bool failed(const CaseResult& r) {
  return r.status == CaseStatus::kVerifyFailed || r.status == CaseStatus::kError || !r.verify.ok();
}

bool measured(const CaseResult& r) {
  return r.status == CaseStatus::kOk || r.status == CaseStatus::kVerifyFailed;
}

RowTiming row_timing(const Timing& t) {
  RowTiming r;
  r.count = t.stats.count;
  r.p50_s = t.stats.p50;
  r.p95_s = t.stats.p95;
  r.p99_s = t.stats.p99;
  r.stddev_s = t.stats.stddev;
  r.median_ci95_s = t.stats.median_ci95;
  r.bus_bw_Bps = t.bus_bw_Bps;
  return r;
}

std::optional<double> rel_delta(double base, double cand) {
  if (!(base > 0.0) || !std::isfinite(base) || !std::isfinite(cand)) return std::nullopt;
  return (cand - base) / base;
}

std::string pct(double rel) {
  return fmt::format("{:+.1f}%", rel * 100.0);
}

std::string status_text(const CaseResult& r) {
  switch (r.status) {
    case CaseStatus::kSkipped:
      return fmt::format("skipped ({})", r.skip_reason.empty() ? "no reason given" : r.skip_reason);
    case CaseStatus::kError:
      return fmt::format("error ({})", r.error.empty() ? "no message" : r.error);
    case CaseStatus::kVerifyFailed:
      return fmt::format("verification failed ({})", r.verify.summary());
    case CaseStatus::kOk:
      break;
  }
  if (!r.verify.ok()) return fmt::format("verification failed ({})", r.verify.summary());
  return "ok";
}

/// The timing verdict of a row measured in both runs.
void judge_timing(RowComparison& row, const Thresholds& th) {
  const RowTiming& b = *row.base;
  const RowTiming& c = *row.cand;
  row.p50_delta_rel = rel_delta(b.p50_s, c.p50_s);
  row.p95_delta_rel = rel_delta(b.p95_s, c.p95_s);
  row.bus_bw_delta_rel = rel_delta(b.bus_bw_Bps, c.bus_bw_Bps);
  if (b.median_ci95_s && c.median_ci95_s) {
    row.ci_overlap = c.median_ci95_s->low <= b.median_ci95_s->high &&
                     b.median_ci95_s->low <= c.median_ci95_s->high;
  }
  const double d50 = c.p50_s - b.p50_s;
  const double d95 = c.p95_s - b.p95_s;
  const double noise = std::min(b.stddev_s, c.stddev_s);
  const bool big50 = std::abs(d50) >= th.min_abs_delta_s;
  const bool big95 = std::abs(d95) >= th.min_abs_delta_s;
  const bool noisy50 = row.ci_overlap || std::abs(d50) < noise;
  const bool noisy95 = std::abs(d95) < noise;

  const double r50 = row.p50_delta_rel.value_or(0.0);
  const double r95 = row.p95_delta_rel.value_or(0.0);
  const double rbw = row.bus_bw_delta_rel.value_or(0.0);
  const bool p50_slow = r50 > th.p50_rel && big50;
  const bool p50_fast = r50 < -th.p50_rel && big50;
  const bool p95_slow = r95 > th.p95_rel && big95;
  // Bus bandwidth is bytes / median: its latency difference is the median's.
  const bool bw_slow = rbw < -th.bus_bw_rel && big50;

  std::vector<std::string> beyond;  // metrics beyond their threshold
  if (p50_slow || p50_fast) beyond.push_back(fmt::format("p50 {}", pct(r50)));
  if (p95_slow) beyond.push_back(fmt::format("p95 {}", pct(r95)));
  if (bw_slow) beyond.push_back(fmt::format("busbw {}", pct(rbw)));
  const std::string beyond_text = detail::join(beyond, ", ");

  const bool slower_sig = (p50_slow && !noisy50) || (p95_slow && !noisy95) || (bw_slow && !noisy50);
  const bool faster_sig = p50_fast && !noisy50;
  std::string why_noisy;
  if (row.ci_overlap) {
    why_noisy = "the medians' 95% CIs overlap";
  } else if (b.p50_s > 0) {
    why_noisy = fmt::format("|delta| below both runs' stddev ({:.1f}% of the base p50)",
                            noise / b.p50_s * 100.0);
  } else {
    why_noisy = "|delta| below both runs' stddev";
  }

  if (slower_sig) {
    row.verdict = Verdict::kSlower;
    row.note = fmt::format("{} beyond threshold", beyond_text);
  } else if (faster_sig) {
    row.verdict = Verdict::kFaster;
    row.note = fmt::format("{} beyond threshold", beyond_text);
  } else if (!beyond.empty()) {
    row.verdict = Verdict::kNoisy;
    row.note = fmt::format("{} beyond threshold, but {}", beyond_text, why_noisy);
  } else {
    row.verdict = Verdict::kSame;
    row.note.clear();
  }
}

/// A reduce row's accuracy block in both runs: exactness lost is VERIFY_CHANGED, a largest error
/// grown beyond the threshold LESS_EXACT; both outrank what the timing said (kept in the note).
void judge_accuracy(RowComparison& row, const CaseResult& b, const CaseResult& c,
                    const Thresholds& th) {
  if (!b.accuracy || !c.accuracy) return;
  const Accuracy& x = *b.accuracy;
  const Accuracy& y = *c.accuracy;
  const std::string timing =
      row.note.empty() ? std::string()
                       : fmt::format("; timing: {} ({})", to_string(row.verdict), row.note);
  if (x.identical() && !y.identical()) {
    row.verdict = Verdict::kVerifyChanged;
    row.note = fmt::format(
        "exactness lost: BASE bit-identical ({} rows), NEW {}/{} rows identical, max {:.3g} "
        "ulp{}",
        x.rows_checked, y.rows_identical, y.rows_checked, y.ulp_max, timing);
  } else if (y.ulp_max > x.ulp_max + th.max_ulp_growth) {
    row.verdict = Verdict::kLessExact;
    row.note = fmt::format("max error grew from {:.3g} to {:.3g} ulp (threshold +{:.3g} ulp){}",
                           x.ulp_max, y.ulp_max, th.max_ulp_growth, timing);
  } else if (!x.identical() && y.identical()) {
    row.note += row.note.empty() ? "now bit-identical" : "; now bit-identical";
  }
}

/// Fills verdict and note of a row present in both reports.
void judge(RowComparison& row, const CaseResult& b, const CaseResult& c, const Thresholds& th) {
  if (b.timing) row.base = row_timing(*b.timing);
  if (c.timing) row.cand = row_timing(*c.timing);
  if (failed(c)) {
    row.verdict = Verdict::kVerifyChanged;
    row.note = fmt::format("NEW: {}; BASE: {}", status_text(c), status_text(b));
    return;
  }
  if (c.status == CaseStatus::kSkipped) {
    row.verdict = measured(b) ? Verdict::kMissing : Verdict::kSkipped;
    row.note = b.status == CaseStatus::kSkipped && b.skip_reason == c.skip_reason
                   ? fmt::format("skipped in both: {}", c.skip_reason)
                   : fmt::format("NEW: {}; BASE: {}", status_text(c), status_text(b));
    return;
  }
  // c is ok and verified.
  if (!measured(b)) {
    row.verdict = Verdict::kNew;
    row.note = fmt::format("measured in NEW only; BASE: {}", status_text(b));
    return;
  }
  if (!row.base && !row.cand) {
    row.verdict = Verdict::kSame;
    row.note = "no timing in either run";
  } else if (!row.cand) {
    row.verdict = Verdict::kMissing;
    row.note = "timed in BASE, not in NEW";
  } else if (!row.base) {
    row.verdict = Verdict::kNew;
    row.note = "timed in NEW, not in BASE";
  } else {
    judge_timing(row, th);
  }
  if (b.status == CaseStatus::kVerifyFailed) row.note += "; verification fixed (failed in BASE)";
  judge_accuracy(row, b, c, th);
}

using RowKey = std::pair<std::string, std::string>;  // (case key, impl)

std::map<RowKey, const CaseResult*> index_rows(const RunReport& r, std::string_view which) {
  std::map<RowKey, const CaseResult*> out;
  for (const auto& row : r.results) {
    const auto [it, inserted] = out.emplace(RowKey{row.c.key(), row.impl}, &row);
    if (!inserted) {
      throw ReportError(fmt::format("{} has two rows for case '{}' impl '{}': cannot match rows",
                                    which, row.c.key(), row.impl));
    }
  }
  return out;
}

ReportIdentity identity(const RunReport& r, std::string label) {
  return ReportIdentity{std::move(label), r.context.tool_version, r.context.git_sha,
                        r.context.build_type, r.context.utc_time};
}

/// "2 x NVIDIA H200" or "1 x NVIDIA H100, 1 x NVIDIA H200".
std::string count_values(const std::vector<std::string>& values) {
  std::map<std::string, int> counts;
  for (const auto& v : values)
    ++counts[v.empty() ? "(none)" : v];
  std::string out;
  for (const auto& [v, n] : counts)
    out += fmt::format("{}{} x {}", out.empty() ? "" : ", ", n, v);
  return out.empty() ? "(none)" : out;
}

/// Distinct values, sorted, comma separated.
std::string distinct_values(const std::vector<std::string>& values) {
  std::set<std::string> set;
  for (const auto& v : values)
    set.insert(v.empty() ? "(none)" : v);
  if (set.empty()) return "(none)";
  return detail::join(std::vector<std::string>(set.begin(), set.end()), ", ");
}

std::string first_row_text(const RunReport& r) {
  if (r.results.empty()) return "no rows";
  return fmt::format("{} rows, e.g. '{}' impl '{}'", r.results.size(), r.results.front().c.key(),
                     r.results.front().impl);
}

}  // namespace

const std::vector<std::string>& threshold_keys() {
  static const std::vector<std::string> keys{"description", "p50_latency_pct", "p95_latency_pct",
                                             "bus_bw_pct",  "min_abs_delta_s", "max_ulp_growth"};
  return keys;
}

Thresholds thresholds_from_json(const J& j, std::string_view origin) {
  const detail::JsonReader rd("thresholds", std::string(origin));
  if (!j.is_object()) {
    rd.fail_file(fmt::format("expected a JSON object, got {}", detail::describe_type(j)));
  }
  const auto& keys = threshold_keys();
  for (const auto& [key, value] : j.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      rd.fail(key, fmt::format("unknown key; accepted: {}", detail::join(keys, ", ")));
    }
  }
  Thresholds t;
  if (j.contains("description")) (void)rd.get_string(j, "", "description");
  if (j.contains("p50_latency_pct")) t.p50_rel = read_percent(rd, j, "p50_latency_pct");
  if (j.contains("p95_latency_pct")) t.p95_rel = read_percent(rd, j, "p95_latency_pct");
  if (j.contains("bus_bw_pct")) t.bus_bw_rel = read_percent(rd, j, "bus_bw_pct");
  if (j.contains("min_abs_delta_s")) {
    const J& v = j.at("min_abs_delta_s");
    if (!v.is_number()) {
      rd.fail("min_abs_delta_s",
              fmt::format("expected a number (seconds), got {}", detail::describe_type(v)));
    }
    t.min_abs_delta_s = v.get<double>();
    if (!(t.min_abs_delta_s >= 0.0 && t.min_abs_delta_s <= kMaxAbsDeltaS)) {
      rd.fail("min_abs_delta_s", fmt::format("{} is out of range; accepted: seconds in [0, {}]",
                                             t.min_abs_delta_s, kMaxAbsDeltaS));
    }
  }
  if (j.contains("max_ulp_growth")) {
    const J& v = j.at("max_ulp_growth");
    if (!v.is_number()) {
      rd.fail("max_ulp_growth",
              fmt::format("expected a number (ulps), got {}", detail::describe_type(v)));
    }
    t.max_ulp_growth = v.get<double>();
    if (!(t.max_ulp_growth >= 0.0 && t.max_ulp_growth <= kMaxUlpGrowth)) {
      rd.fail("max_ulp_growth", fmt::format("{} is out of range; accepted: ulps in [0, {}]",
                                            t.max_ulp_growth, kMaxUlpGrowth));
    }
  }
  return t;
}

Thresholds read_thresholds(const std::string& path) {
  return thresholds_from_json(read_json_file(JsonSource{"thresholds", path}), path);
}

OJ thresholds_to_json(const Thresholds& t) {
  OJ j;
  j["p50_latency_pct"] = t.p50_rel * 100.0;
  j["p95_latency_pct"] = t.p95_rel * 100.0;
  j["bus_bw_pct"] = t.bus_bw_rel * 100.0;
  j["min_abs_delta_s"] = t.min_abs_delta_s;
  j["max_ulp_growth"] = t.max_ulp_growth;
  return j;
}

double threshold_from_ulps(double ulps, std::string_view flag) {
  if (!(ulps >= 0.0 && ulps <= kMaxUlpGrowth)) {
    throw ConfigError(fmt::format("{}: {} is out of range; accepted: ulps in [0, {}]", flag, ulps,
                                  kMaxUlpGrowth));
  }
  return ulps;
}

double threshold_from_percent(double pct, std::string_view flag) {
  if (!(pct > 0.0 && pct <= kMaxPercent)) {
    throw ConfigError(fmt::format("{}: {} is out of range; accepted: percent in (0, {}]", flag, pct,
                                  kMaxPercent));
  }
  return pct / 100.0;
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kSame:
      return "SAME";
    case Verdict::kFaster:
      return "FASTER";
    case Verdict::kSlower:
      return "SLOWER";
    case Verdict::kNoisy:
      return "NOISY";
    case Verdict::kMissing:
      return "MISSING";
    case Verdict::kNew:
      return "NEW";
    case Verdict::kVerifyChanged:
      return "VERIFY_CHANGED";
    case Verdict::kLessExact:
      return "LESS_EXACT";
    case Verdict::kSkipped:
      return "SKIPPED";
  }
  return "?";
}

bool is_regression(Verdict v) {
  return v == Verdict::kSlower || v == Verdict::kMissing || v == Verdict::kVerifyChanged ||
         v == Verdict::kLessExact;
}

std::size_t Comparison::count(Verdict v) const {
  return static_cast<std::size_t>(std::count_if(
      rows.begin(), rows.end(), [v](const RowComparison& r) { return r.verdict == v; }));
}

ExitCode Comparison::exit_code() const {
  const bool regressed = std::any_of(
      rows.begin(), rows.end(), [](const RowComparison& r) { return is_regression(r.verdict); });
  return regressed ? ExitCode::kCheckFailed : ExitCode::kSuccess;
}

std::vector<std::pair<std::string, std::string>> environment_summary(const RunReport& report) {
  const RunContext& c = report.context;
  std::vector<std::string> gpus, drivers, runtimes, nccls;
  for (const auto& r : c.ranks) {
    gpus.push_back(r.gpu_name);
    drivers.push_back(r.driver_version);
    runtimes.push_back(r.runtime_version);
    nccls.push_back(r.nccl_version);
  }
  const MeasureOptions& m = report.spec.measure;
  return {
      {"gpu", count_values(gpus)},
      {"driver", distinct_values(drivers)},
      {"cuda_runtime", distinct_values(runtimes)},
      {"nccl", distinct_values(nccls)},
      {"nccl_compiled", c.nccl_compiled_version.empty() ? "(none)" : c.nccl_compiled_version},
      {"world_size", std::to_string(c.world_size)},
      {"hosts", std::to_string(c.hosts.size())},
      {"topology", c.topology.empty() ? "(none)" : c.topology},
      {"build_type", c.build_type.empty() ? "(none)" : c.build_type},
      {"config.warmup", std::to_string(m.warmup)},
      {"config.iters", std::to_string(m.iters)},
      {"config.graph_calls", std::to_string(m.graph_calls)},
      {"config.ring", std::to_string(m.ring)},
  };
}

Comparison compare(const RunReport& base, const RunReport& cand, const Thresholds& thresholds) {
  const auto base_rows = index_rows(base, "BASE");
  const auto cand_rows = index_rows(cand, "NEW");
  const bool shared = std::any_of(base_rows.begin(), base_rows.end(),
                                  [&](const auto& kv) { return cand_rows.count(kv.first) > 0; });
  if (!shared) {
    throw ReportError(fmt::format(
        "BASE and NEW have no row (case key, impl) in common: BASE has {}; NEW has {}. Compare "
        "reports of the same sweep",
        first_row_text(base), first_row_text(cand)));
  }

  Comparison out;
  out.base = identity(base, "BASE");
  out.cand = identity(cand, "NEW");
  out.thresholds = thresholds;

  for (const auto& b : base.results) {
    RowComparison row;
    row.key = b.c.key();
    row.exchange_key = b.c.exchange_key();
    row.impl = b.impl;
    row.base_status = b.status;
    const auto it = cand_rows.find(RowKey{row.key, row.impl});
    if (it == cand_rows.end()) {
      // Even a row BASE only skipped is MISSING: the sweep lost coverage, and a checker that
      // lets rows disappear silently cannot be trusted.
      if (b.timing) row.base = row_timing(*b.timing);
      row.verdict = Verdict::kMissing;
      row.note = measured(b) ? "not in NEW" : fmt::format("not in NEW; BASE: {}", status_text(b));
      out.rows.push_back(std::move(row));
      continue;
    }
    const CaseResult& c = *it->second;
    row.cand_status = c.status;
    judge(row, b, c, thresholds);
    out.rows.push_back(std::move(row));
  }
  for (const auto& c : cand.results) {
    if (base_rows.count(RowKey{c.c.key(), c.impl}) > 0) continue;
    RowComparison row;
    row.key = c.c.key();
    row.exchange_key = c.c.exchange_key();
    row.impl = c.impl;
    row.cand_status = c.status;
    if (c.timing) row.cand = row_timing(*c.timing);
    if (failed(c)) {
      row.verdict = Verdict::kVerifyChanged;
      row.note = fmt::format("not in BASE; NEW: {}", status_text(c));
    } else {
      row.verdict = Verdict::kNew;
      row.note = c.status == CaseStatus::kOk ? "not in BASE"
                                             : fmt::format("not in BASE; NEW: {}", status_text(c));
    }
    out.rows.push_back(std::move(row));
  }

  const auto env_b = environment_summary(base);
  const auto env_c = environment_summary(cand);
  for (std::size_t i = 0; i < env_b.size(); ++i) {
    if (env_b[i].second != env_c[i].second) {
      out.env_changes.push_back(EnvChange{env_b[i].first, env_b[i].second, env_c[i].second});
    }
  }
  return out;
}

}  // namespace dcp::report
