#include "report/compare_report.hpp"

#include <fmt/format.h>

#include <map>
#include <ostream>

#include "report/csv_report.hpp"
#include "report/json_write.hpp"
#include "report/table_report.hpp"
#include "report/text_table.hpp"

namespace dcp::report {

namespace {

using OJ = nlohmann::ordered_json;
using detail::Align;
using detail::number_or_null;
using detail::TextTable;

/// "pdl=on workspace=ipc": the part of the key that is not the exchange key.
std::string variant_of(const RowComparison& r) {
  std::string v = r.key;
  if (v.rfind(r.exchange_key, 0) == 0) v = v.substr(r.exchange_key.size());
  const auto first = v.find_first_not_of(' ');
  return first == std::string::npos ? std::string() : v.substr(first);
}

std::string one_line(std::string_view s) {
  std::string out;
  for (char ch : s)
    out += (ch == '\n' || ch == '\r' || ch == '\t') ? ' ' : ch;
  return out;
}

std::string identity_text(const ReportIdentity& id) {
  return fmt::format("dcpbench {} (git {}, {} build), {}", id.tool_version, id.git_sha,
                     id.build_type, id.utc_time);
}

std::string thresholds_text(const Thresholds& t) {
  return fmt::format("p50 {:.1f}%, p95 {:.1f}%, busbw {:.1f}%, min |delta| {}, max ulp growth {}",
                     t.p50_rel * 100.0, t.p95_rel * 100.0, t.bus_bw_rel * 100.0,
                     format_seconds(t.min_abs_delta_s), t.max_ulp_growth);
}

std::string p50_cell(const std::optional<RowTiming>& t) {
  return t ? format_seconds(t->p50_s) : "-";
}

/// "1 SLOWER, 6 SAME": non-zero counts in severity order.
std::string counts_text(const Comparison& cmp) {
  std::string s;
  for (Verdict v : kVerdictsBySeverity) {
    if (const std::size_t n = cmp.count(v); n > 0)
      s += fmt::format("{}{} {}", s.empty() ? "" : ", ", n, to_string(v));
  }
  return s.empty() ? "nothing" : s;
}

std::string outcome_text(const Comparison& cmp) {
  if (cmp.exit_code() == ExitCode::kSuccess) return "OK (exit 0)";
  std::string what;
  for (Verdict v : kVerdictsBySeverity) {
    if (!is_regression(v)) continue;
    if (const std::size_t n = cmp.count(v); n > 0)
      what += fmt::format("{}{} {}", what.empty() ? "" : ", ", n, to_string(v));
  }
  return fmt::format("REGRESSION (exit 1): {}", what);
}

OJ row_timing_to_json(const std::optional<RowTiming>& t) {
  if (!t) return nullptr;
  OJ j;
  j["count"] = t->count;
  j["p50_s"] = number_or_null(t->p50_s);
  j["p95_s"] = number_or_null(t->p95_s);
  j["p99_s"] = number_or_null(t->p99_s);
  j["stddev_s"] = number_or_null(t->stddev_s);
  if (t->median_ci95_s) {
    j["median_ci95_s"] =
        OJ::array({number_or_null(t->median_ci95_s->low), number_or_null(t->median_ci95_s->high)});
  } else {
    j["median_ci95_s"] = nullptr;
  }
  j["bus_bw_Bps"] = number_or_null(t->bus_bw_Bps);
  return j;
}

OJ opt_number(const std::optional<double>& v) {
  return v ? number_or_null(*v) : OJ(nullptr);
}

OJ identity_to_json(const ReportIdentity& id) {
  OJ j;
  j["label"] = id.label;
  j["tool_version"] = id.tool_version;
  j["git_sha"] = id.git_sha;
  j["build_type"] = id.build_type;
  j["utc_time"] = id.utc_time;
  return j;
}

std::string num(double v) {
  return fmt::format("{}", v);
}

std::string md_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '|':
        out += "\\|";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\n':
      case '\r':
      case '\t':
        out += ' ';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

void md_rows_table(const std::vector<const RowComparison*>& rows, std::ostream& out) {
  out << "| verdict | exchange | impl | variant | base p50 | new p50 | Δ p50 | Δ p95 | Δ busbw | "
         "note |\n";
  out << "|---|---|---|---|---:|---:|---:|---:|---:|---|\n";
  for (const RowComparison* r : rows) {
    out << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                       to_string(r->verdict), md_escape(r->exchange_key), md_escape(r->impl),
                       md_escape(variant_of(*r)), p50_cell(r->base), p50_cell(r->cand),
                       format_percent(r->p50_delta_rel), format_percent(r->p95_delta_rel),
                       format_percent(r->bus_bw_delta_rel), md_escape(r->note));
  }
}

}  // namespace

void write_comparison_table(const Comparison& cmp, std::ostream& out) {
  out << "# dcpbench compare\n";
  out << fmt::format("# BASE: {}: {}\n", cmp.base.label, identity_text(cmp.base));
  out << fmt::format("# NEW:  {}: {}\n", cmp.cand.label, identity_text(cmp.cand));
  out << fmt::format("# thresholds: {}; NOISY = beyond a threshold but inside the measured noise\n",
                     thresholds_text(cmp.thresholds));
  if (!cmp.env_changes.empty()) {
    out << "# WARNING ENV_CHANGED: the runs differ outside the code; timing changes may come "
           "from the environment:\n";
    for (const auto& e : cmp.env_changes)
      out << fmt::format("#   {}: {} -> {}\n", e.field, one_line(e.base), one_line(e.cand));
  }
  out << '\n';
  std::vector<std::string> order;
  std::map<std::string, std::vector<const RowComparison*>> groups;
  for (const auto& r : cmp.rows) {
    auto [it, inserted] = groups.try_emplace(r.exchange_key);
    if (inserted) order.push_back(r.exchange_key);
    it->second.push_back(&r);
  }
  TextTable t(
      {"verdict", "impl", "variant", "base p50", "new p50", "d p50", "d p95", "d busbw", "note"},
      {Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight,
       Align::kRight, Align::kRight, Align::kLeft});
  for (const auto& x : order) {
    t.add_line(fmt::format("## {}", x));
    for (const RowComparison* r : groups.at(x)) {
      t.add_row({std::string(to_string(r->verdict)), r->impl, variant_of(*r), p50_cell(r->base),
                 p50_cell(r->cand), format_percent(r->p50_delta_rel),
                 format_percent(r->p95_delta_rel), format_percent(r->bus_bw_delta_rel),
                 one_line(r->note)});
    }
  }
  t.write(out);
  out << fmt::format("\n# summary: {} rows: {}\n", cmp.rows.size(), counts_text(cmp));
  if (!cmp.env_changes.empty()) {
    out << fmt::format("# ENV_CHANGED: {} difference{} (see the warning above)\n",
                       cmp.env_changes.size(), cmp.env_changes.size() == 1 ? "" : "s");
  }
  out << "# result: " << outcome_text(cmp) << '\n';
}

OJ comparison_to_json(const Comparison& cmp) {
  OJ j;
  OJ schema;
  schema["name"] = kCompareSchemaName;
  schema["version"] = fmt::format("{}.{}", kCompareSchemaMajor, kCompareSchemaMinor);
  j["schema"] = std::move(schema);
  j["base"] = identity_to_json(cmp.base);
  j["new"] = identity_to_json(cmp.cand);
  j["thresholds"] = thresholds_to_json(cmp.thresholds);
  j["exit_code"] = static_cast<int>(cmp.exit_code());
  OJ summary;
  summary["total"] = cmp.rows.size();
  for (Verdict v : kVerdictsBySeverity)
    summary[std::string(to_string(v))] = cmp.count(v);
  j["summary"] = std::move(summary);
  OJ env = OJ::array();
  for (const auto& e : cmp.env_changes) {
    OJ x;
    x["field"] = e.field;
    x["base"] = e.base;
    x["new"] = e.cand;
    env.push_back(std::move(x));
  }
  j["env_changes"] = std::move(env);
  OJ rows = OJ::array();
  for (const auto& r : cmp.rows) {
    OJ x;
    x["key"] = r.key;
    x["exchange_key"] = r.exchange_key;
    x["impl"] = r.impl;
    x["verdict"] = to_string(r.verdict);
    x["base_status"] = r.base_status ? OJ(to_string(*r.base_status)) : OJ(nullptr);
    x["new_status"] = r.cand_status ? OJ(to_string(*r.cand_status)) : OJ(nullptr);
    x["base"] = row_timing_to_json(r.base);
    x["new"] = row_timing_to_json(r.cand);
    x["p50_delta_rel"] = opt_number(r.p50_delta_rel);
    x["p95_delta_rel"] = opt_number(r.p95_delta_rel);
    x["bus_bw_delta_rel"] = opt_number(r.bus_bw_delta_rel);
    x["ci_overlap"] = r.ci_overlap;
    x["note"] = r.note;
    rows.push_back(std::move(x));
  }
  j["rows"] = std::move(rows);
  return j;
}

void write_comparison_json(const Comparison& cmp, std::ostream& out) {
  detail::write_pretty(comparison_to_json(cmp), out);
}

const std::vector<std::string>& comparison_csv_columns() {
  static const std::vector<std::string> columns{"verdict",
                                                "key",
                                                "exchange_key",
                                                "impl",
                                                "base_status",
                                                "new_status",
                                                "base_p50_s",
                                                "new_p50_s",
                                                "p50_delta_rel",
                                                "base_p95_s",
                                                "new_p95_s",
                                                "p95_delta_rel",
                                                "base_bus_bw_Bps",
                                                "new_bus_bw_Bps",
                                                "bus_bw_delta_rel",
                                                "base_ci_low_s",
                                                "base_ci_high_s",
                                                "new_ci_low_s",
                                                "new_ci_high_s",
                                                "ci_overlap",
                                                "base_stddev_s",
                                                "new_stddev_s",
                                                "note"};
  return columns;
}

void write_comparison_csv(const Comparison& cmp, std::ostream& out) {
  auto write_cells = [&](const std::vector<std::string>& cells) {
    bool first = true;
    for (const auto& c : cells) {
      if (!first) out << ',';
      first = false;
      out << csv_escape(c);
    }
    out << '\n';
  };
  write_cells(comparison_csv_columns());
  auto t_num = [](const std::optional<RowTiming>& t, double RowTiming::*field) {
    return t ? num((*t).*field) : std::string();
  };
  auto opt = [](const std::optional<double>& v) { return v ? num(*v) : std::string(); };
  auto ci = [](const std::optional<RowTiming>& t, bool low) {
    if (!t || !t->median_ci95_s) return std::string();
    return num(low ? t->median_ci95_s->low : t->median_ci95_s->high);
  };
  for (const auto& r : cmp.rows) {
    write_cells({std::string(to_string(r.verdict)),
                 r.key,
                 r.exchange_key,
                 r.impl,
                 r.base_status ? std::string(to_string(*r.base_status)) : "",
                 r.cand_status ? std::string(to_string(*r.cand_status)) : "",
                 t_num(r.base, &RowTiming::p50_s),
                 t_num(r.cand, &RowTiming::p50_s),
                 opt(r.p50_delta_rel),
                 t_num(r.base, &RowTiming::p95_s),
                 t_num(r.cand, &RowTiming::p95_s),
                 opt(r.p95_delta_rel),
                 t_num(r.base, &RowTiming::bus_bw_Bps),
                 t_num(r.cand, &RowTiming::bus_bw_Bps),
                 opt(r.bus_bw_delta_rel),
                 ci(r.base, true),
                 ci(r.base, false),
                 ci(r.cand, true),
                 ci(r.cand, false),
                 r.ci_overlap ? "true" : "false",
                 t_num(r.base, &RowTiming::stddev_s),
                 t_num(r.cand, &RowTiming::stddev_s),
                 r.note});
  }
}

void write_comparison_markdown(const Comparison& cmp, std::ostream& out) {
  const bool ok = cmp.exit_code() == ExitCode::kSuccess;
  out << fmt::format("# dcpbench regression report: {}\n\n", ok ? "OK" : "REGRESSION");
  out << fmt::format("- **Result:** {}\n", outcome_text(cmp));
  out << fmt::format("- **BASE:** `{}`: {}\n", md_escape(cmp.base.label),
                     md_escape(identity_text(cmp.base)));
  out << fmt::format("- **NEW:** `{}`: {}\n", md_escape(cmp.cand.label),
                     md_escape(identity_text(cmp.cand)));
  out << fmt::format("- **Thresholds:** {}\n", md_escape(thresholds_text(cmp.thresholds)));
  if (!cmp.env_changes.empty()) {
    out << fmt::format(
        "- **ENV_CHANGED:** {} difference{} between the runs (below): timing "
        "changes may come from the environment\n",
        cmp.env_changes.size(), cmp.env_changes.size() == 1 ? "" : "s");
  }

  out << "\n## Summary\n\n| verdict | rows |\n|---|---:|\n";
  for (Verdict v : kVerdictsBySeverity) {
    if (const std::size_t n = cmp.count(v); n > 0)
      out << fmt::format("| {} | {} |\n", to_string(v), n);
  }
  out << fmt::format("| **total** | {} |\n", cmp.rows.size());

  auto rows_with = [&](auto pred) {
    std::vector<const RowComparison*> rows;
    for (Verdict v : kVerdictsBySeverity) {
      if (!pred(v)) continue;
      for (const auto& r : cmp.rows) {
        if (r.verdict == v) rows.push_back(&r);
      }
    }
    return rows;
  };

  const auto regressions = rows_with([](Verdict v) { return is_regression(v); });
  out << fmt::format("\n## Regressions ({})\n\n", regressions.size());
  if (regressions.empty()) {
    out << "None.\n";
  } else {
    md_rows_table(regressions, out);
  }

  out << "\n## Environment changes\n\n";
  if (cmp.env_changes.empty()) {
    out << "None.\n";
  } else {
    out << "| field | base | new |\n|---|---|---|\n";
    for (const auto& e : cmp.env_changes) {
      out << fmt::format("| {} | {} | {} |\n", md_escape(e.field), md_escape(e.base),
                         md_escape(e.cand));
    }
  }

  const auto others = rows_with(
      [](Verdict v) { return !is_regression(v) && v != Verdict::kSame && v != Verdict::kSkipped; });
  if (!others.empty()) {
    out << fmt::format("\n## Other changes ({})\n\n", others.size());
    md_rows_table(others, out);
  }
  for (Verdict v : {Verdict::kSame, Verdict::kSkipped}) {
    const auto rows = rows_with([v](Verdict x) { return x == v; });
    if (rows.empty()) continue;
    out << fmt::format("\n<details><summary>{} ({} rows)</summary>\n\n", to_string(v), rows.size());
    md_rows_table(rows, out);
    out << "\n</details>\n";
  }
}

}  // namespace dcp::report
