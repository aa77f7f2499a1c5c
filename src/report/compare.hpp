#pragma once
/// @file
/// `compare`: matches the rows of two run reports by (case key, impl) and gives each a verdict.
/// Pure: no I/O, no formatting of units (the printers in compare_report.hpp do that).
///
/// Verdicts (docs/report-schema.md gives the full rules):
///   SAME            both measured, no metric beyond its threshold
///   FASTER          p50 lower beyond the threshold, outside the measured noise
///   SLOWER          p50 or p95 higher (or bus bandwidth lower) beyond the threshold, outside noise
///   NOISY           a metric crossed its threshold but the change lies inside the measured
///                   uncertainty (the medians' 95 % CIs overlap, or |delta| < both runs' stddev)
///   MISSING         in BASE but absent from NEW; or measured in BASE, skipped or untimed in NEW
///   NEW             in NEW only, or measured in NEW where BASE had no measurement
///   VERIFY_CHANGED  NEW's row failed: verification failed or the run errored; or a reduce row
///                   bit-identical to the reference in BASE is not in NEW (exactness lost)
///   LESS_EXACT      a reduce row's largest error vs fp64 (Accuracy::ulp_max) grew by more than
///                   max_ulp_growth ulps
///   SKIPPED         not measured in either run (informational)
/// The exit code is 1 when any row is SLOWER, MISSING, VERIFY_CHANGED or LESS_EXACT, else 0.

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/result.hpp"

namespace dcp::report {

/// Regression thresholds, loaded from configs/thresholds.json. Relative thresholds are fractions
/// (0.05 = 5 %); the file spells them in percent.
struct Thresholds {
  double p50_rel = 0.05;     ///< p50 latency change (either way) that counts ("p50_latency_pct")
  double p95_rel = 0.10;     ///< p95 latency increase that counts ("p95_latency_pct")
  double bus_bw_rel = 0.05;  ///< bus bandwidth decrease that counts ("bus_bw_pct")
  /// Latency differences smaller than this never count, whatever the ratio (seconds;
  /// "min_abs_delta_s"): guards tiny latencies against relative noise.
  double min_abs_delta_s = 50e-9;
  /// Growth of a reduce row's largest error vs fp64 (output-type ulps, "max_ulp_growth") beyond
  /// which the row is LESS_EXACT.
  double max_ulp_growth = 1.0;

  friend bool operator==(const Thresholds&, const Thresholds&) = default;
};

/// Keys of a thresholds file, in the order they are written.
const std::vector<std::string>& threshold_keys();

/// Applies the keys present in `j` on top of the defaults. Strict: an unknown key, a wrong type
/// or a value out of range ((0, 1000] percent; [0, 1] seconds; [0, 1e6] ulps) throws ReportError
/// naming
/// `origin` and the field.
Thresholds thresholds_from_json(const nlohmann::json& j, std::string_view origin);
/// Reads a thresholds file (ReportError if unreadable or invalid).
Thresholds read_thresholds(const std::string& path);
/// The thresholds in the file format (percent, seconds).
nlohmann::ordered_json thresholds_to_json(const Thresholds& t);
/// Checks a percent threshold given on the command line; throws ConfigError naming `flag`.
double threshold_from_percent(double pct, std::string_view flag);
/// Checks an ulp threshold given on the command line ([0, 1e6]); ConfigError naming `flag`.
double threshold_from_ulps(double ulps, std::string_view flag);

enum class Verdict {
  kSame,
  kFaster,
  kSlower,
  kNoisy,
  kMissing,
  kNew,
  kVerifyChanged,
  kSkipped,
  kLessExact,
};

/// In order of severity, most severe first (the order the nightly report lists them in).
inline constexpr std::array kVerdictsBySeverity{
    Verdict::kVerifyChanged, Verdict::kLessExact, Verdict::kMissing,
    Verdict::kSlower,        Verdict::kNoisy,     Verdict::kFaster,
    Verdict::kNew,           Verdict::kSame,      Verdict::kSkipped};

/// "SAME", "FASTER", "SLOWER", "NOISY", "MISSING", "NEW", "VERIFY_CHANGED", "SKIPPED",
/// "LESS_EXACT".
std::string_view to_string(Verdict v);
/// Whether the verdict fails the comparison (exit code 1): SLOWER, MISSING, VERIFY_CHANGED,
/// LESS_EXACT.
bool is_regression(Verdict v);

/// The figures of one side of a compared row (SI units).
struct RowTiming {
  std::size_t count = 0;  ///< samples
  double p50_s = 0, p95_s = 0, p99_s = 0, stddev_s = 0;
  std::optional<Interval> median_ci95_s;
  double bus_bw_Bps = 0;

  friend bool operator==(const RowTiming&, const RowTiming&) = default;
};

/// One (case key, impl) of either report.
struct RowComparison {
  std::string key;
  std::string exchange_key;
  std::string impl;
  Verdict verdict = Verdict::kSame;
  std::optional<CaseStatus> base_status;  ///< nullopt: the row is not in BASE
  std::optional<CaseStatus> cand_status;  ///< nullopt: the row is not in NEW
  std::optional<RowTiming> base;          ///< absent without a timing
  std::optional<RowTiming> cand;
  std::optional<double> p50_delta_rel;     ///< (new - base) / base, when both are timed
  std::optional<double> p95_delta_rel;     ///< (new - base) / base
  std::optional<double> bus_bw_delta_rel;  ///< (new - base) / base
  bool ci_overlap = false;                 ///< both medians have a CI and the two intervals overlap
  std::string note;  ///< why the verdict, one line, unit-free (percent, statuses, reasons)

  friend bool operator==(const RowComparison&, const RowComparison&) = default;
};

/// One difference between the two runs' environments (or measurement options).
struct EnvChange {
  std::string field;  ///< e.g. "gpu", "driver", "nccl", "world_size", "config.iters"
  std::string base;
  std::string cand;

  friend bool operator==(const EnvChange&, const EnvChange&) = default;
};

/// Who produced a report, for headers.
struct ReportIdentity {
  std::string label;  ///< how printers name the report: its file, or "BASE" / "NEW"
  std::string tool_version;
  std::string git_sha;
  std::string build_type;
  std::string utc_time;

  friend bool operator==(const ReportIdentity&, const ReportIdentity&) = default;
};

struct Comparison {
  ReportIdentity base;
  ReportIdentity cand;
  Thresholds thresholds;
  /// BASE's rows in BASE's order, then the rows only NEW has, in NEW's order.
  std::vector<RowComparison> rows;
  /// Non-empty = the ENV_CHANGED warning: the timings may differ for reasons outside the code.
  std::vector<EnvChange> env_changes;

  /// Rows with verdict `v`.
  [[nodiscard]] std::size_t count(Verdict v) const;
  /// kCheckFailed (1) when any row is a regression (is_regression), else kSuccess (0).
  [[nodiscard]] ExitCode exit_code() const;

  friend bool operator==(const Comparison&, const Comparison&) = default;
};

/// Compares NEW (`cand`) with BASE (`base`). Throws ReportError when the reports share no
/// (case key, impl) or when one of them has two rows with the same (case key, impl).
/// The identities' labels are "BASE" and "NEW"; callers may replace them (e.g. by file names).
Comparison compare(const RunReport& base, const RunReport& cand, const Thresholds& thresholds);

/// The environment fields compare looks at, as "field" -> value strings (for tests and printers).
std::vector<std::pair<std::string, std::string>> environment_summary(const RunReport& report);

}  // namespace dcp::report
