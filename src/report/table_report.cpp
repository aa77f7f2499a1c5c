#include "report/table_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <ostream>
#include <set>
#include <string_view>

#include "core/units.hpp"
#include "report/text_table.hpp"

namespace dcp::report {

namespace {

using detail::Align;
using detail::TextTable;

struct TimeUnit {
  const char* name;
  double per_s;
  int decimals;
};

TimeUnit unit_for(double reference) {
  const double a = std::abs(reference);
  if (a < 1e-6) return {"ns", kNsPerS, 0};
  if (a < 1e-3) return {"us", kUsPerS, 2};
  if (a < 1.0) return {"ms", kMsPerS, 3};
  return {"s", 1.0, 3};
}

std::string pdl_of(const Case& c) {
  return fmt::format("{}", c.pdl ? (*c.pdl ? "on" : "off") : "n/a");
}

std::string workspace_of(const Case& c) {
  return c.workspace ? std::string(to_string(*c.workspace)) : std::string("n/a");
}

std::string verify_cell(const CaseResult& r) {
  switch (r.status) {
    case CaseStatus::kSkipped:
      return "skipped";
    case CaseStatus::kError:
      return "ERROR";
    case CaseStatus::kVerifyFailed:
      return fmt::format("FAIL {}/{} rows", r.verify.bad_rows, r.verify.rows_checked);
    case CaseStatus::kOk:
      break;
  }
  if (!r.verify.ok())
    return fmt::format("FAIL {}/{} rows", r.verify.bad_rows, r.verify.rows_checked);
  if (r.accuracy) {
    // A reduce row: its merged outputs against the bit-exact reference.
    const Accuracy& a = *r.accuracy;
    if (a.rows_checked == 0) return "unchecked";
    if (a.identical()) return fmt::format("exact {} rows", a.rows_checked);
    return fmt::format("{}/{} rows exact, max {:.3g} ulp", a.rows_identical, a.rows_checked,
                       a.ulp_max);
  }
  if (r.verify.rows_checked == 0) return r.c.batch == 0 ? "ok, empty exchange" : "unchecked";
  return fmt::format("ok {} rows", r.verify.rows_checked);
}

/// Collapses text to one line (reasons may hold newlines).
std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s)
    out += (ch == '\n' || ch == '\r' || ch == '\t') ? ' ' : ch;
  return out;
}

bool is_debug(const std::string& build_type) {
  std::string lower;
  for (char ch : build_type)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return lower == "debug";
}

void write_context(const RunReport& report, std::ostream& out) {
  const RunContext& c = report.context;
  out << fmt::format("# dcpbench {} (git {}, {} build), {}\n", c.tool_version, c.git_sha,
                     c.build_type, c.utc_time);
  if (is_debug(c.build_type)) {
    out << "# WARNING: Debug build: timings are not representative; use a Release build\n";
  }
  if (!c.argv.empty()) {
    std::vector<std::string> args;
    for (const auto& a : c.argv)
      args.push_back(one_line(a));
    out << "# command: " << detail::join(args, " ") << '\n';
  }
  out << fmt::format("# world: {} rank{} on {} host{}", c.world_size, c.world_size == 1 ? "" : "s",
                     c.hosts.size(), c.hosts.size() == 1 ? "" : "s");
  if (!c.hosts.empty()) out << " (" << detail::join(c.hosts, ", ") << ')';
  if (!c.topology.empty()) out << "; topology: " << one_line(c.topology);
  out << '\n';
  // GPUs grouped by model; driver, runtime and NCCL as the distinct values seen.
  std::map<std::string, int> models;
  std::set<std::string> drivers, runtimes, nccls;
  for (const auto& r : c.ranks) {
    ++models[fmt::format("{} (sm_{}{}, {} SMs)", r.gpu_name, r.cc_major, r.cc_minor, r.sm_count)];
    drivers.insert(r.driver_version);
    runtimes.insert(r.runtime_version);
    if (!r.nccl_version.empty()) nccls.insert(r.nccl_version);
  }
  auto join = [](const std::set<std::string>& set) {
    if (set.empty()) return std::string("n/a");
    return detail::join(std::vector<std::string>(set.begin(), set.end()), ", ");
  };
  std::string gpus;
  for (const auto& [model, n] : models)
    gpus += fmt::format("{}{} x {}", gpus.empty() ? "" : ", ", n, model);
  out << fmt::format("# GPUs: {}; driver {}; CUDA runtime {}; NCCL {} (compiled {})\n",
                     gpus.empty() ? "none recorded" : gpus, join(drivers), join(runtimes),
                     join(nccls),
                     c.nccl_compiled_version.empty() ? "n/a" : c.nccl_compiled_version);
  constexpr std::size_t kMaxRankLines = 16;
  if (c.ranks.size() <= kMaxRankLines) {
    for (const auto& r : c.ranks) {
      out << fmt::format("#   rank {}: {} GPU {} ({}, {})\n", r.rank, r.host, r.device,
                         r.pci_bus_id, r.gpu_uuid);
    }
  } else {
    out << fmt::format("#   ({} ranks: per-rank devices in the JSON report)\n", c.ranks.size());
  }
  for (const auto& n : c.notes)
    out << "# note: " << one_line(n) << '\n';
  const MeasureOptions& m = report.spec.measure;
  out << fmt::format(
      "# timing: {} iterations after {} warm-ups, {} calls per graph/pipelined sample, ring of {} "
      "input sets, seed {:#x}; max over ranks per iteration\n",
      m.iters, m.warmup, m.graph_calls, m.ring, m.seed);
}

void write_results(const RunReport& report, std::ostream& out) {
  // Groups in order of first appearance of their exchange key.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const CaseResult*>> groups;
  for (const auto& r : report.results) {
    const std::string x = r.c.exchange_key();
    auto [it, inserted] = groups.try_emplace(x);
    if (inserted) order.push_back(x);
    it->second.push_back(&r);
  }
  out << "\n# results: per exchange, max over ranks per iteration; busbw = algbw * (n-1)/n\n";
  if (order.empty()) {
    out << "(no results)\n";
    return;
  }
  TextTable t(
      {"impl", "pdl", "workspace", "p50", "p95", "p99", "median 95% CI", "algbw", "busbw",
       "ws memory", "verify"},
      {Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight,
       Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kLeft});
  for (const auto& x : order) {
    const auto& rows = groups.at(x);
    t.add_line(fmt::format("## {}  ({} per rank)", x, format_bytes(rows.front()->bytes_per_rank)));
    for (const CaseResult* r : rows) {
      std::vector<std::string> cells{r->impl, pdl_of(r->c), workspace_of(r->c)};
      if (r->timing) {
        const SampleStats& s = r->timing->stats;
        cells.push_back(format_seconds(s.p50));
        cells.push_back(format_seconds(s.p95));
        cells.push_back(format_seconds(s.p99));
        cells.push_back(format_interval_s(s.median_ci95, s.p50));
        cells.push_back(format_bandwidth(r->timing->alg_bw_Bps));
        cells.push_back(format_bandwidth(r->timing->bus_bw_Bps));
      } else {
        for (int i = 0; i < 6; ++i)
          cells.emplace_back("-");
      }
      cells.push_back(r->workspace_bytes > 0 ? format_bytes(r->workspace_bytes) : "-");
      cells.push_back(verify_cell(*r));
      t.add_row(std::move(cells));
    }
  }
  t.write(out);
}

const CaseResult* find_row(const RunReport& report, std::string_view key, std::string_view impl) {
  for (const auto& r : report.results) {
    if (r.impl == impl && r.c.key() == key) return &r;
  }
  return nullptr;
}

const CaseResult* find_baseline(const RunReport& report, std::string_view exchange_key,
                                std::string_view impl) {
  for (const auto& r : report.results) {
    if (r.impl == impl && r.timing && r.c.exchange_key() == exchange_key) return &r;
  }
  return nullptr;
}

void write_speedups(const RunReport& report, std::ostream& out) {
  if (report.speedups.empty()) return;
  out << "\n# speedups on the same exchange: speedup = baseline p50 / impl p50; 95% CI from the "
         "medians' CIs\n";
  TextTable t(
      {"exchange", "impl", "variant", "baseline", "impl p50", "baseline p50", "speedup", "95% CI"},
      {Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight, Align::kRight,
       Align::kRight, Align::kLeft});
  for (const auto& s : report.speedups) {
    const CaseResult* n = find_row(report, s.impl_key, s.impl);
    const CaseResult* b = find_baseline(report, s.exchange_key, s.baseline_impl);
    std::string variant = s.impl_key;
    if (variant.rfind(s.exchange_key, 0) == 0) variant = variant.substr(s.exchange_key.size());
    while (!variant.empty() && variant.front() == ' ')
      variant.erase(variant.begin());
    std::string ci = "n/a (too few samples)";
    if (s.speedup.ci95) {
      ci = fmt::format("[{}, {}]", format_ratio(s.speedup.ci95->low),
                       format_ratio(s.speedup.ci95->high));
    }
    t.add_row({s.exchange_key, s.impl, variant, s.baseline_impl,
               n && n->timing ? format_seconds(n->timing->stats.p50) : "-",
               b && b->timing ? format_seconds(b->timing->stats.p50) : "-",
               format_ratio(s.speedup.value), ci});
  }
  t.write(out);
}

void write_floors(const RunReport& report, std::ostream& out) {
  if (report.launch_floors.empty()) return;
  out << "\n# launch floor: an empty kernel timed exactly as the exchanges are\n";
  TextTable t({"launch", "cp", "p50", "p95", "p99", "median 95% CI", "samples"},
              {Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight,
               Align::kLeft, Align::kRight});
  for (const auto& f : report.launch_floors) {
    const SampleStats& s = f.timing.stats;
    t.add_row({std::string(to_string(f.launch)), std::to_string(f.cp_size), format_seconds(s.p50),
               format_seconds(s.p95), format_seconds(s.p99),
               format_interval_s(s.median_ci95, s.p50), std::to_string(s.count)});
  }
  t.write(out);
}

/// The accuracy block of every reduce row (core/accuracy.hpp): bits against the reference,
/// ulps against fp64.
void write_accuracy(const RunReport& report, std::ostream& out) {
  TextTable t({"case", "impl", "exact", "rows identical", "max ulp", "mean ulp", "lse max ulp",
               "first difference"},
              {Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight, Align::kRight,
               Align::kRight, Align::kRight, Align::kLeft});
  bool any = false;
  for (const auto& r : report.results) {
    if (!r.accuracy) continue;
    any = true;
    const Accuracy& a = *r.accuracy;
    std::string first = "-";
    if (a.first) {
      const MergeDifference& d = *a.first;
      first =
          fmt::format("rank {} entry {} {}: got 0x{:x}, expected 0x{:x}", d.dst_rank, d.entry,
                      d.element < 0 ? std::string("lse_out") : fmt::format("element {}", d.element),
                      d.got_bits, d.expected_bits);
    }
    t.add_row({r.c.exchange_key(), r.impl, a.identical() ? "yes" : "NO",
               fmt::format("{}/{}", a.rows_identical, a.rows_checked),
               fmt::format("{:.3g}", a.ulp_max), fmt::format("{:.3g}", a.ulp_mean()),
               fmt::format("{:.3g}", a.lse_ulp_max), first});
  }
  if (!any) return;
  out << "\n# accuracy of the merged outputs: bits vs the CPU reference, error in output-type ulps "
         "vs fp64 (lse_out: fp32 ulps)\n";
  t.write(out);
}

/// The parts of multi-launch strategies, each timed alone in the same run.
void write_parts(const RunReport& report, std::ostream& out) {
  TextTable t({"case", "impl", "part", "p50", "p95", "p99", "share of p50"},
              {Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight, Align::kRight,
               Align::kRight, Align::kRight});
  bool any = false;
  for (const auto& r : report.results) {
    for (const PartTiming& part : r.parts) {
      any = true;
      const SampleStats& s = part.timing.stats;
      const double whole = r.timing ? r.timing->stats.p50 : std::nan("");
      t.add_row({r.c.exchange_key(), r.impl, part.name, format_seconds(s.p50),
                 format_seconds(s.p95), format_seconds(s.p99),
                 std::isfinite(whole) && whole > 0 ? fmt::format("{:.0f}%", 100.0 * s.p50 / whole)
                                                   : std::string("n/a")});
    }
  }
  if (!any) return;
  out << "\n# parts: each part of a multi-launch strategy timed alone, same method, same run\n";
  t.write(out);
}

void write_hangs(const RunReport& report, std::ostream& out) {
  for (const auto& r : report.results) {
    if (!r.hang) continue;
    out << fmt::format("\n# HANG: {} | {}: FIFO state after the device-side timeout\n", r.c.key(),
                       r.impl);
    out << to_text(*r.hang) << '\n';
  }
}

void write_problems(const RunReport& report, std::ostream& out) {
  std::vector<const CaseResult*> skipped, failed, errors;
  for (const auto& r : report.results) {
    if (r.status == CaseStatus::kSkipped) skipped.push_back(&r);
    if (r.status == CaseStatus::kError) errors.push_back(&r);
    if (r.status == CaseStatus::kVerifyFailed || (r.status == CaseStatus::kOk && !r.verify.ok())) {
      failed.push_back(&r);
    }
  }
  auto section = [&](const char* title, const std::vector<const CaseResult*>& rows, auto&& text) {
    if (rows.empty()) return;
    out << fmt::format("\n# {} ({})\n", title, rows.size());
    for (const CaseResult* r : rows)
      out << fmt::format("{} | {} | {}\n", r->c.key(), r->impl, one_line(text(*r)));
  };
  section("skipped", skipped, [](const CaseResult& r) { return r.skip_reason; });
  section("VERIFICATION FAILED", failed, [](const CaseResult& r) {
    return r.accuracy && !r.accuracy->identical() ? r.accuracy->summary() : r.verify.summary();
  });
  section("ERRORS", errors, [](const CaseResult& r) { return r.error; });
}

}  // namespace

std::string format_seconds(double s) {
  if (!std::isfinite(s)) return "n/a";
  const TimeUnit u = unit_for(s);
  return fmt::format("{:.{}f} {}", s * u.per_s, u.decimals, u.name);
}

std::string format_seconds_in_unit_of(double s, double reference) {
  if (!std::isfinite(s)) return "n/a";
  const TimeUnit u = unit_for(reference);
  return fmt::format("{:.{}f}", s * u.per_s, u.decimals);
}

std::string time_unit_of(double reference) {
  return unit_for(reference).name;
}

std::string format_interval_s(const std::optional<Interval>& ci, double reference) {
  if (!ci) return "n/a";
  return fmt::format("[{}, {}] {}", format_seconds_in_unit_of(ci->low, reference),
                     format_seconds_in_unit_of(ci->high, reference), time_unit_of(reference));
}

std::string format_bandwidth(double bytes_per_s) {
  if (!std::isfinite(bytes_per_s)) return "n/a";
  const double gb = bytes_per_s / 1e9;
  return std::abs(gb) >= 1.0 ? fmt::format("{:.2f} GB/s", gb) : fmt::format("{:.3f} GB/s", gb);
}

std::string format_bytes(std::uint64_t bytes) {
  const auto b = static_cast<double>(bytes);
  if (bytes < kKiB) return fmt::format("{} B", bytes);
  if (bytes < kMiB) return fmt::format("{:.2f} KiB", b / static_cast<double>(kKiB));
  if (bytes < kGiB) return fmt::format("{:.1f} MiB", b / static_cast<double>(kMiB));
  return fmt::format("{:.2f} GiB", b / static_cast<double>(kGiB));
}

std::string format_ratio(double r) {
  if (!std::isfinite(r)) return "n/a";
  return fmt::format("{:.2f}x", r);
}

std::string format_percent(std::optional<double> rel) {
  if (!rel || !std::isfinite(*rel)) return "n/a";
  return fmt::format("{:+.1f}%", *rel * 100.0);
}

void write_table(const RunReport& report, std::ostream& out) {
  write_context(report, out);
  write_results(report, out);
  write_speedups(report, out);
  write_floors(report, out);
  write_accuracy(report, out);
  write_parts(report, out);
  write_hangs(report, out);
  write_problems(report, out);
}

}  // namespace dcp::report
