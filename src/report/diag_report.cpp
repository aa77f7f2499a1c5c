#include "report/diag_report.hpp"

#include "report/context_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <istream>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "report/json_read.hpp"

namespace dcp::report {

namespace {

using ordered_json = nlohmann::ordered_json;
using json = nlohmann::json;

// ---- table helpers ------------------------------------------------------------------------------

/// Left-aligned columns, two spaces apart; the last column is not padded.
void write_columns(std::ostream& os, const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i + 1 < row.size()) {
        line += fmt::format("{:<{}}  ", row[i], width[i]);
      } else {
        line += row[i];
      }
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    os << line << '\n';
  }
}

std::string ranks_text(const DiagCheck& c) {
  switch (c.scope) {
    case DiagScope::kRank:
      return c.ranks.empty() ? "-" : std::to_string(c.ranks.front());
    case DiagScope::kPair:
      return c.ranks.size() == 2 ? fmt::format("{}->{}", c.ranks[0], c.ranks[1]) : "-";
    case DiagScope::kJob:
      return c.ranks.empty() ? "all" : fmt::format("{}", fmt::join(c.ranks, ","));
  }
  return "-";
}

/// `previous_method`: the method of the matrix printed just before ("as above" instead).
void write_matrix(std::ostream& os, const DiagMatrix& m, const std::string& previous_method) {
  os << fmt::format("{} ({})\n", m.title, display_unit(m));
  if (!m.method.empty()) {
    os << "  method: " << (m.method == previous_method ? "as above" : m.method) << '\n';
  }
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> header{"from\\to"};
  for (int c = 0; c < m.size; ++c)
    header.push_back(std::to_string(c));
  cells.push_back(header);
  bool any_diagonal = false;
  for (int r = 0; r < m.size; ++r) {
    std::vector<std::string> row{std::to_string(r)};
    for (int c = 0; c < m.size; ++c) {
      std::string cell = format_matrix_cell(m, r, c);
      if (r == c && m.at(r, c)) {
        cell += "*";
        any_diagonal = true;
      }
      row.push_back(cell);
    }
    cells.push_back(row);
  }
  // Right-align the numbers under their column headers.
  std::vector<std::size_t> width(cells.front().size(), 0);
  for (const auto& row : cells) {
    for (std::size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : cells) {
    std::string line = fmt::format("  {:<{}}", row[0], width[0]);
    for (std::size_t i = 1; i < row.size(); ++i)
      line += fmt::format("  {:>{}}", row[i], width[i]);
    os << line << '\n';
  }
  if (any_diagonal && !m.diagonal.empty()) os << "  * diagonal: " << m.diagonal << '\n';
}

// ---- JSON helpers -------------------------------------------------------------------------------

ordered_json number_or_null(double v) {
  return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr);
}

/// Reading: every access names the field, so a bad file gives a one-line message. The machinery
/// is the one JSON reader's (report/json_read.hpp); this adapter keeps diag's call shape.
class Reader {
 public:
  explicit Reader(std::string_view source) : rd_(JsonSource{"diag report", std::string(source)}) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    rd_.fail(path, what);
  }

  const json& at(const json& j, std::string_view key, const std::string& path) const {
    return rd_.member(j, path, key);
  }

  template <typename T>
  T get(const json& j, std::string_view key, const std::string& path) const {
    return as<T>(at(j, key, path), join(path, key));
  }

  template <typename T>
  T as(const json& v, const std::string& path) const {
    if constexpr (std::is_same_v<T, std::string>) {
      return rd_.as_string(v, path);
    } else if constexpr (std::is_same_v<T, bool>) {
      return rd_.as_bool(v, path);
    } else if constexpr (std::is_same_v<T, int>) {
      return rd_.as_int(v, path);
    } else if constexpr (std::is_same_v<T, double>) {
      return rd_.as_number(v, path);
    } else {
      static_assert(std::is_same_v<T, std::vector<std::string>>);
      rd_.expect_array(v, path);
      std::vector<std::string> out;
      for (std::size_t i = 0; i < v.size(); ++i)
        out.push_back(rd_.as_string(v[i], detail::index_path(path, i)));
      return out;
    }
  }

  const json& array(const json& j, std::string_view key, const std::string& path) const {
    return rd_.array(j, path, key);
  }

  static std::string join(const std::string& path, std::string_view key) {
    return detail::child_path(path, key);
  }

 private:
  detail::JsonReader rd_;
};

}  // namespace

DisplayValue display_value(double value, std::string_view unit) {
  DisplayValue d;
  if (unit == "s") {
    d.number = value * 1e6;
    d.unit = "us";
    d.digits = fmt::format("{:.2f}", d.number);
  } else if (unit == "B/s") {
    d.number = value / 1e9;
    d.unit = "GB/s";
    d.digits = fmt::format("{:.1f}", d.number);
  } else {
    d.number = value;
    d.unit = std::string(unit);
    d.digits = fmt::format("{:.4g}", d.number);
  }
  d.text = d.unit.empty() ? d.digits : d.digits + " " + d.unit;
  return d;
}

std::string display_unit(const DiagMatrix& m) {
  return display_value(0, m.unit).unit;
}

std::string format_matrix_cell(const DiagMatrix& m, int from, int to) {
  const std::optional<double> v = m.at(from, to);
  if (!v || !std::isfinite(*v)) return "-";
  return display_value(*v, m.unit).digits;
}

void write_diag_explain(const DiagReport& report, std::ostream& os) {
  std::vector<const DiagCheck*> rows;
  for (const auto& c : report.checks) {
    if (c.verdict == Verdict::kFail || c.verdict == Verdict::kWarn) rows.push_back(&c);
  }
  os << "\nRemedies (--explain)\n";
  if (rows.empty()) {
    os << "Nothing to explain: no check failed or warned.\n";
    return;
  }
  for (const DiagCheck* c : rows) {
    os << fmt::format("{}  {}/{}  ranks {}\n", to_string(c->verdict), c->group, c->name,
                      ranks_text(*c));
    if (!c->hint.empty()) os << "  why: " << c->hint << '\n';
    os << "  do:  "
       << (c->remedy.empty() ? std::string("no remedy recorded (see the hint)") : c->remedy)
       << '\n';
  }
}

void write_diag_table(const DiagReport& report, std::ostream& os) {
  const RunContext& c = report.context;
  os << fmt::format("dcpbench diag {} ({}, {}) {}\n", c.tool_version, c.git_sha, c.build_type,
                    c.utc_time);
  if (c.build_type == "Debug") os << "WARNING: Debug build: timings are not representative\n";
  os << fmt::format("job: {} rank{} on {} host{} ({}); {} mode, timeout {} s\n", c.world_size,
                    c.world_size == 1 ? "" : "s", c.hosts.size(), c.hosts.size() == 1 ? "" : "s",
                    fmt::join(c.hosts, ", "), report.options.quick ? "quick" : "full",
                    report.options.timeout_s);
  os << fmt::format("checks: {}\n", fmt::join(report.options.groups, ","));
  for (const auto& n : c.notes)
    os << "note: " << n << '\n';

  os << "\nRanks\n";
  std::vector<std::vector<std::string>> ranks{{"rank", "host", "local", "dev", "GPU", "UUID", "PCI",
                                               "cc", "SMs", "driver", "runtime", "NCCL"}};
  for (const auto& r : c.ranks) {
    ranks.push_back({std::to_string(r.rank), r.host, std::to_string(r.local_rank),
                     std::to_string(r.device), r.gpu_name, r.gpu_uuid, r.pci_bus_id,
                     fmt::format("{}.{}", r.cc_major, r.cc_minor), std::to_string(r.sm_count),
                     r.driver_version, r.runtime_version,
                     r.nccl_version.empty() ? "-" : r.nccl_version});
  }
  write_columns(os, ranks);

  os << "\nChecks\n";
  std::vector<std::vector<std::string>> rows{{"verdict", "group", "check", "ranks", "value"}};
  std::size_t value_col = 0;
  for (const auto& ch : report.checks) {
    rows.push_back({std::string(to_string(ch.verdict)), ch.group, ch.name, ranks_text(ch),
                    ch.value.empty() ? "-" : ch.value});
  }
  {
    std::vector<std::size_t> width(4, 0);
    for (const auto& row : rows) {
      for (std::size_t i = 0; i < 4; ++i)
        width[i] = std::max(width[i], row[i].size());
    }
    for (std::size_t i = 0; i < 4; ++i)
      value_col += width[i] + 2;
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const auto& row = rows[k];
      os << fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", row[0], width[0], row[1], width[1],
                        row[2], width[2], row[3], width[3], row[4]);
      if (k == 0) continue;
      const DiagCheck& ch = report.checks[k - 1];
      if (ch.verdict != Verdict::kPass && !ch.hint.empty()) {
        os << std::string(value_col, ' ') << "hint: " << ch.hint << '\n';
      }
    }
  }

  std::string previous_method;
  for (const auto& m : report.matrices) {
    os << '\n';
    write_matrix(os, m, previous_method);
    previous_method = m.method;
  }

  const DiagSummary& s = report.summary;
  os << fmt::format("\nSummary: {} PASS, {} WARN, {} FAIL, {} SKIP -> exit {}\n", s.pass, s.warn,
                    s.fail, s.skip, s.exit_code);
}

void write_diag_json(const DiagReport& report, std::ostream& os) {
  ordered_json j;
  j["schema"] = {{"name", kDiagSchemaName},
                 {"version", kDiagSchemaVersion},
                 {"units",
                  "matrix values in SI units: seconds (s), bytes per second (B/s); "
                  "check numbers in the check's own unit"}};
  j["context"] = context_to_json(report.context);
  j["options"] = {{"quick", report.options.quick},
                  {"timeout_s", report.options.timeout_s},
                  {"checks", report.options.groups}};
  j["summary"] = {{"pass", report.summary.pass},
                  {"warn", report.summary.warn},
                  {"fail", report.summary.fail},
                  {"skip", report.summary.skip},
                  {"exit_code", report.summary.exit_code}};
  ordered_json checks = ordered_json::array();
  for (const auto& c : report.checks) {
    checks.push_back({{"group", c.group},
                      {"name", c.name},
                      {"scope", to_string(c.scope)},
                      {"ranks", c.ranks},
                      {"verdict", to_string(c.verdict)},
                      {"value", c.value},
                      {"unit", c.unit},
                      {"number", c.number ? number_or_null(*c.number) : ordered_json(nullptr)},
                      {"hint", c.hint},
                      {"detail", c.detail},
                      {"remedy", c.remedy}});
  }
  j["checks"] = checks;
  ordered_json matrices = ordered_json::array();
  for (const auto& m : report.matrices) {
    ordered_json values = ordered_json::array();
    for (int r = 0; r < m.size; ++r) {
      ordered_json row = ordered_json::array();
      for (int c = 0; c < m.size; ++c) {
        const auto v = m.at(r, c);
        row.push_back(v ? number_or_null(*v) : ordered_json(nullptr));
      }
      values.push_back(row);
    }
    matrices.push_back({{"name", m.name},
                        {"title", m.title},
                        {"unit", m.unit},
                        {"method", m.method},
                        {"size", m.size},
                        {"diagonal", m.diagonal},
                        {"values", values}});
  }
  j["matrices"] = matrices;
  os << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

DiagReport read_diag_json(std::istream& is, std::string_view source) {
  std::ostringstream buffer;
  buffer << is.rdbuf();
  const std::string text = std::move(buffer).str();
  const json j = parse_json(text, JsonSource{"diag report", std::string(source)});
  const Reader rd(source);
  const json& schema = rd.at(j, "schema", "");
  const auto name = rd.get<std::string>(schema, "name", "schema");
  if (name != kDiagSchemaName) {
    rd.fail("schema.name", fmt::format("'{}' is not a diag report ('{}')", name, kDiagSchemaName));
  }
  const auto version = rd.get<std::string>(schema, "version", "schema");
  const std::string major = version.substr(0, version.find('.'));
  const std::string our_major(kDiagSchemaVersion.substr(0, kDiagSchemaVersion.find('.')));
  if (major != our_major) {
    rd.fail("schema.version",
            fmt::format("version {} is not readable by this dcpbench (reads {}.x)", version,
                        our_major));
  }

  DiagReport r;
  r.context = context_from_json(rd.at(j, "context", ""), "diag report", source, "context");
  const json& opt = rd.at(j, "options", "");
  r.options.quick = rd.get<bool>(opt, "quick", "options");
  r.options.timeout_s = rd.get<double>(opt, "timeout_s", "options");
  r.options.groups = rd.get<std::vector<std::string>>(opt, "checks", "options");
  const json& sum = rd.at(j, "summary", "");
  r.summary.pass = rd.get<int>(sum, "pass", "summary");
  r.summary.warn = rd.get<int>(sum, "warn", "summary");
  r.summary.fail = rd.get<int>(sum, "fail", "summary");
  r.summary.skip = rd.get<int>(sum, "skip", "summary");
  r.summary.exit_code = rd.get<int>(sum, "exit_code", "summary");

  const json& checks = rd.array(j, "checks", "");
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const std::string p = fmt::format("checks[{}]", i);
    const json& cj = checks[i];
    DiagCheck c;
    c.group = rd.get<std::string>(cj, "group", p);
    c.name = rd.get<std::string>(cj, "name", p);
    const auto scope = rd.get<std::string>(cj, "scope", p);
    const auto parsed_scope = parse_diag_scope(scope);
    if (!parsed_scope) rd.fail(p + ".scope", fmt::format("unknown scope '{}'", scope));
    c.scope = *parsed_scope;
    const json& ranks = rd.array(cj, "ranks", p);
    for (std::size_t k = 0; k < ranks.size(); ++k)
      c.ranks.push_back(rd.as<int>(ranks[k], fmt::format("{}.ranks[{}]", p, k)));
    const auto verdict = rd.get<std::string>(cj, "verdict", p);
    const auto parsed_verdict = parse_verdict(verdict);
    if (!parsed_verdict) rd.fail(p + ".verdict", fmt::format("unknown verdict '{}'", verdict));
    c.verdict = *parsed_verdict;
    c.value = rd.get<std::string>(cj, "value", p);
    c.unit = rd.get<std::string>(cj, "unit", p);
    const json& number = rd.at(cj, "number", p);
    if (!number.is_null()) c.number = rd.as<double>(number, p + ".number");
    c.hint = rd.get<std::string>(cj, "hint", p);
    c.detail = rd.get<std::string>(cj, "detail", p);
    // Added in 1.1: a 1.0 report has none.
    if (cj.contains("remedy")) c.remedy = rd.get<std::string>(cj, "remedy", p);
    r.checks.push_back(std::move(c));
  }

  const json& matrices = rd.array(j, "matrices", "");
  for (std::size_t i = 0; i < matrices.size(); ++i) {
    const std::string p = fmt::format("matrices[{}]", i);
    const json& mj = matrices[i];
    DiagMatrix m;
    m.name = rd.get<std::string>(mj, "name", p);
    m.title = rd.get<std::string>(mj, "title", p);
    m.unit = rd.get<std::string>(mj, "unit", p);
    m.method = rd.get<std::string>(mj, "method", p);
    m.size = rd.get<int>(mj, "size", p);
    if (m.size < 0 || m.size > 4096)
      rd.fail(p + ".size", fmt::format("{} is out of range", m.size));
    m.diagonal = rd.get<std::string>(mj, "diagonal", p);
    const json& values = rd.array(mj, "values", p);
    if (values.size() != static_cast<std::size_t>(m.size)) {
      rd.fail(p + ".values", fmt::format("{} rows for size {}", values.size(), m.size));
    }
    for (std::size_t row = 0; row < values.size(); ++row) {
      const std::string rp = fmt::format("{}.values[{}]", p, row);
      if (!values[row].is_array() || values[row].size() != static_cast<std::size_t>(m.size)) {
        rd.fail(rp, fmt::format("expected an array of {} cells", m.size));
      }
      for (std::size_t col = 0; col < values[row].size(); ++col) {
        const json& v = values[row][col];
        if (v.is_null()) {
          m.values.emplace_back(std::nullopt);
        } else {
          m.values.emplace_back(rd.as<double>(v, fmt::format("{}[{}]", rp, col)));
        }
      }
    }
    r.matrices.push_back(std::move(m));
  }
  return r;
}

}  // namespace dcp::report
