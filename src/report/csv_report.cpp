#include "report/csv_report.hpp"

#include <fmt/format.h>

#include <ostream>

namespace dcp::report {

namespace {

/// Shortest text that reads back as the same double.
std::string num(double v) {
  return fmt::format("{}", v);
}

std::string mismatch_text(const Mismatch& m) {
  return fmt::format(
      "rank {} {}[entry {}, from rank {}, element {}] call {}: expected 0x{:x}, got 0x{:x}",
      m.dst_rank, m.tensor, m.entry, m.src_rank, m.element, m.call, m.expected_bits, m.actual_bits);
}

std::string difference_text(const MergeDifference& d) {
  return fmt::format("rank {} entry {} {} call {}: expected 0x{:x}, got 0x{:x}", d.dst_rank,
                     d.entry,
                     d.element < 0 ? std::string("lse_out") : fmt::format("element {}", d.element),
                     d.call, d.expected_bits, d.got_bits);
}

void write_row(const std::vector<std::string>& cells, std::ostream& out) {
  bool first = true;
  for (const auto& c : cells) {
    if (!first) out << ',';
    first = false;
    out << csv_escape(c);
  }
  out << '\n';
}

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> columns{
      "key", "exchange_key", "impl", "cp", "batch", "head_dim", "stats_dim", "dtype", "launch",
      "pdl", "workspace", "status", "count", "min_s", "p5_s", "p50_s", "p95_s", "p99_s", "mean_s",
      "stddev_s", "ci_low_s", "ci_high_s", "alg_bw_Bps", "bus_bw_Bps", "bytes_per_rank",
      "workspace_bytes", "bad_rows", "rows_checked", "skip_reason_or_error", "max_s",
      "calls_checked", "mismatched_elements", "first_mismatch", "detail",
      // schema 1.2: the op axis and the reduction
      "op", "tokens", "heads", "model", "lse_base", "acc_identical", "acc_rows_checked",
      "acc_rows_identical", "acc_ulp_max", "acc_ulp_mean", "acc_lse_ulp_max",
      "acc_first_difference", "parts_p50_s", "hang"};
  return columns;
}

std::string csv_escape(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char ch : field) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

void write_csv(const RunReport& report, std::ostream& out) {
  write_row(csv_columns(), out);
  for (const auto& r : report.results) {
    const Case& c = r.c;
    std::vector<std::string> cells{
        c.key(),
        c.exchange_key(),
        r.impl,
        std::to_string(c.cp_size),
        std::to_string(c.batch),
        std::to_string(c.head_dim),
        std::to_string(c.stats_dim),
        std::string(to_string(c.dtype)),
        std::string(to_string(c.launch)),
        c.pdl ? (*c.pdl ? "on" : "off") : "n/a",
        c.workspace ? std::string(to_string(*c.workspace)) : "n/a",
        std::string(to_string(r.status)),
    };
    if (r.timing) {
      const SampleStats& s = r.timing->stats;
      cells.push_back(std::to_string(s.count));
      for (double v : {s.min, s.p5, s.p50, s.p95, s.p99, s.mean, s.stddev})
        cells.push_back(num(v));
      cells.push_back(s.median_ci95 ? num(s.median_ci95->low) : "");
      cells.push_back(s.median_ci95 ? num(s.median_ci95->high) : "");
      cells.push_back(num(r.timing->alg_bw_Bps));
      cells.push_back(num(r.timing->bus_bw_Bps));
    } else {
      cells.insert(cells.end(), 12, "");
    }
    cells.push_back(std::to_string(r.bytes_per_rank));
    cells.push_back(std::to_string(r.workspace_bytes));
    cells.push_back(std::to_string(r.verify.bad_rows));
    cells.push_back(std::to_string(r.verify.rows_checked));
    cells.push_back(r.status == CaseStatus::kSkipped ? r.skip_reason
                    : r.status == CaseStatus::kError ? r.error
                                                     : "");
    cells.push_back(r.timing ? num(r.timing->stats.max) : "");
    cells.push_back(std::to_string(r.verify.calls_checked));
    cells.push_back(std::to_string(r.verify.mismatched_elements));
    cells.push_back(r.verify.first ? mismatch_text(*r.verify.first) : "");
    cells.push_back(r.detail);
    cells.push_back(std::string(to_string(c.op)));
    cells.push_back(c.tokens ? std::to_string(*c.tokens) : "");
    cells.push_back(c.heads ? std::to_string(*c.heads) : "");
    cells.push_back(c.model);
    cells.push_back(c.lse_base ? std::string(to_string(*c.lse_base)) : "");
    if (r.accuracy) {
      const Accuracy& a = *r.accuracy;
      cells.push_back(a.identical() ? "yes" : "no");
      cells.push_back(std::to_string(a.rows_checked));
      cells.push_back(std::to_string(a.rows_identical));
      cells.push_back(num(a.ulp_max));
      cells.push_back(num(a.ulp_mean()));
      cells.push_back(num(a.lse_ulp_max));
      cells.push_back(a.first ? difference_text(*a.first) : "");
    } else {
      cells.insert(cells.end(), 7, "");
    }
    std::string parts;
    for (const PartTiming& part : r.parts) {
      if (!parts.empty()) parts += ';';
      parts += part.name + "=" + num(part.timing.stats.p50);
    }
    cells.push_back(parts);
    cells.push_back(r.hang ? to_text(*r.hang, 4) : "");
    write_row(cells, out);
  }
}

}  // namespace dcp::report
