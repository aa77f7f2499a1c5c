#pragma once
/// @file
/// Plain result records of `dcpbench diag`: one DiagCheck per (check, rank or rank pair), the
/// measured matrices (latency, copy bandwidth) with optional cells, and the whole DiagReport.
///
/// No CUDA, no formatting: src/diag fills them (each check group's rule in src/diag/groups/),
/// src/report/diag_report.hpp prints them as a table or JSON (docs/diag-schema.md) and reads the
/// JSON back. Matrix values are SI units (seconds, bytes/s); printers scale them.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.hpp"
#include "core/result.hpp"

namespace dcp {

/// Outcome of one check. Exit code: 1 when any check is kFail, else 0.
enum class Verdict {
  kPass,  ///< works as the fused exchange needs it
  kWarn,  ///< works, but something is off or a fallback is in use (the hint says what)
  kFail,  ///< broken: the exchange cannot work this way (the hint says what to fix)
  kSkip,  ///< not tested (single rank, not applicable, a prerequisite failed); the hint says why
};

/// "PASS" / "WARN" / "FAIL" / "SKIP".
constexpr std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "PASS";
    case Verdict::kWarn:
      return "WARN";
    case Verdict::kFail:
      return "FAIL";
    case Verdict::kSkip:
      return "SKIP";
  }
  return "?";
}

/// Inverse of to_string(Verdict); nullopt for anything else.
constexpr std::optional<Verdict> parse_verdict(std::string_view s) {
  for (Verdict v : {Verdict::kPass, Verdict::kWarn, Verdict::kFail, Verdict::kSkip}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

/// What a check is about.
enum class DiagScope {
  kRank,  ///< one rank (DiagCheck::ranks = {r})
  kPair,  ///< an ordered rank pair (ranks = {from, to}); symmetric checks use from < to
  kJob,   ///< the whole job (ranks = the ranks involved, empty = all)
};

/// "rank" / "pair" / "job".
constexpr std::string_view to_string(DiagScope s) {
  switch (s) {
    case DiagScope::kRank:
      return "rank";
    case DiagScope::kPair:
      return "pair";
    case DiagScope::kJob:
      return "job";
  }
  return "?";
}

/// Inverse of to_string(DiagScope); nullopt for anything else.
constexpr std::optional<DiagScope> parse_diag_scope(std::string_view s) {
  for (DiagScope v : {DiagScope::kRank, DiagScope::kPair, DiagScope::kJob}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

/// One row of the diag report.
struct DiagCheck {
  std::string group;  ///< the selectable group (`--checks`), e.g. "fabric"
  std::string name;   ///< the check, e.g. "fabric_create"
  DiagScope scope = DiagScope::kJob;
  std::vector<int> ranks;  ///< see DiagScope
  Verdict verdict = Verdict::kSkip;
  std::string value;             ///< what was measured or found, as text (e.g. "0.71")
  std::string unit;              ///< unit of `value` when it is a number (e.g. "us"), else empty
  std::optional<double> number;  ///< `value` as a number, in `unit`, where it is one
  std::string hint;              ///< one line: what is wrong and what to do (empty on PASS)
  std::string detail;            ///< optional longer explanation (e.g. the full fabric message)
  /// What an operator can do about a WARN or FAIL: a command or a setting (`diag --explain`
  /// prints it); empty on PASS and SKIP rows.
  std::string remedy;

  friend bool operator==(const DiagCheck&, const DiagCheck&) = default;
};

/// A per-rank-pair measurement: row = source (initiating) rank, column = destination rank.
struct DiagMatrix {
  std::string name;    ///< "latency_p50", "latency_p99", "copy_bandwidth"
  std::string title;   ///< one line for humans, e.g. "one-way flag latency, p50"
  std::string unit;    ///< SI unit of the values: "s" or "B/s"
  std::string method;  ///< how it was measured (kernel, timer, sizes, rounds)
  int size = 0;        ///< ranks (rows = columns)
  /// Row-major [from][to], size*size cells; nullopt = not measured (see the pair's check).
  std::vector<std::optional<double>> values;
  /// What the diagonal holds when measured (e.g. "self: two streams on the same GPU, not a
  /// link"); empty when the diagonal is not measured.
  std::string diagonal;

  [[nodiscard]] std::optional<double> at(int from, int to) const {
    return values.at(static_cast<std::size_t>(from) * static_cast<std::size_t>(size) +
                     static_cast<std::size_t>(to));
  }
  void set(int from, int to, std::optional<double> v) {
    values.at(static_cast<std::size_t>(from) * static_cast<std::size_t>(size) +
              static_cast<std::size_t>(to)) = v;
  }

  friend bool operator==(const DiagMatrix&, const DiagMatrix&) = default;
};

/// Verdict counts and the exit code they give (filled by diag::summarize, never by a printer).
struct DiagSummary {
  int pass = 0, warn = 0, fail = 0, skip = 0;
  int exit_code = 0;  ///< 1 when fail > 0, else 0

  friend bool operator==(const DiagSummary&, const DiagSummary&) = default;
};

/// How diag was asked to run.
struct DiagOptions {
  bool quick = false;
  double timeout_s = kDefaultTimeoutS;  ///< bound on every wait (device spin, collective)
  std::vector<std::string> groups;      ///< the selected check groups, in run order

  friend bool operator==(const DiagOptions&, const DiagOptions&) = default;
};

/// A whole `dcpbench diag`.
struct DiagReport {
  RunContext context;
  DiagOptions options;
  std::vector<DiagCheck> checks;  ///< in group order, then rank / pair order
  std::vector<DiagMatrix> matrices;
  DiagSummary summary;

  friend bool operator==(const DiagReport&, const DiagReport&) = default;
};

}  // namespace dcp
