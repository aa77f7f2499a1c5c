// The JSON report: round trip, schema layout, golden file, and the strict reader's refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "golden.hpp"
#include "report/json_report.hpp"
#include "report/report_error.hpp"
#include "report_fixtures.hpp"

namespace dcp::report {
namespace {

using nlohmann::json;
using testing::make_base_report;

std::string to_text(const RunReport& r) {
  std::ostringstream os;
  write_json(r, os);
  return os.str();
}

json base_json() {
  return json::parse(to_text(make_base_report()));
}

/// The reader's error message for `j`, or "" when it reads fine.
std::string error_of(const json& j) {
  try {
    (void)run_report_from_json(j, "crafted.json");
  } catch (const ReportError& e) {
    return e.what();
  }
  return "";
}

std::string error_of_text(const std::string& text) {
  try {
    (void)parse_run_report(text, "crafted.json");
  } catch (const ReportError& e) {
    return e.what();
  }
  return "";
}

/// "/results/0/timing/stats/p50" -> "results[0].timing.stats.p50".
std::string field_path(const json::json_pointer& ptr) {
  std::string out;
  std::string s = ptr.to_string();
  std::istringstream parts(s.substr(1));
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (!part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      out += "[" + part + "]";
    } else {
      if (!out.empty()) out += '.';
      out += part;
    }
  }
  return out;
}

/// Every object member below `j` (not array elements of scalars), as JSON pointers.
void member_pointers(const json& j, const json::json_pointer& at,
                     std::vector<json::json_pointer>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      out.push_back(at / k);
      member_pointers(v, at / k, out);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (j[i].is_structured()) member_pointers(j[i], at / i, out);
    }
  }
}

/// Members the reader ignores on purpose (informational text).
bool ignored_member(const std::string& path) {
  // Informational, or (native_key) the 1.0 name of impl_key, kept for 1.0 readers and read only
  // from 1.0 reports (SchemaOneZeroSpeedupsReadAsNatives).
  if (path == "schema.units" || path == "schema.bus_bw" ||
      (path.rfind("speedups[", 0) == 0 && path.ends_with(".native_key"))) {
    return true;
  }
  // Schema 1.2's fields are optional (a 1.1 report has none of them; ReduceReport tests them).
  if (path == "config.op" || path == "config.lse_base") return true;
  if (path.rfind("results[", 0) == 0) {
    for (const char* k :
         {".op", ".tokens", ".heads", ".model", ".lse_base", ".parts", ".accuracy", ".hang"}) {
      const std::string key = k;
      if (path.size() >= key.size() &&
          path.compare(path.size() - key.size(), key.size(), key) == 0 &&
          path.find('.', path.find(']')) == path.size() - key.size()) {
        return true;
      }
    }
  }
  return false;
}

TEST(JsonReport, RoundTripIsExact) {
  const RunReport base = make_base_report();
  EXPECT_EQ(run_report_from_json(json(to_json(base)), "memory"), base);
  EXPECT_EQ(parse_run_report(to_text(base), "text"), base);
  for (const RunReport& r :
       {testing::make_slower_report(), testing::make_verify_report(), testing::make_env_report(),
        testing::make_missing_report(), testing::make_unrelated_report()}) {
    EXPECT_EQ(parse_run_report(to_text(r), "variant"), r);
  }
}

TEST(JsonReport, DoublesSurviveBitForBit) {
  RunReport r = make_base_report();
  const std::vector<double> tricky{0.1,
                                   1.0 / 3.0,
                                   1e-300,
                                   std::numeric_limits<double>::denorm_min(),
                                   std::numeric_limits<double>::max(),
                                   1.6300000000000001e-06,
                                   std::nextafter(1.85e-6, 1.0),
                                   -0.0};
  r.results[0].timing->samples_s = tricky;
  r.results[0].timing->stats.p50 = std::nextafter(1.63e-6, 0.0);
  r.results[0].timing->alg_bw_Bps = 123456789.123456789;
  const RunReport back = parse_run_report(to_text(r), "doubles");
  ASSERT_EQ(back.results[0].timing->samples_s.size(), tricky.size());
  for (std::size_t i = 0; i < tricky.size(); ++i) {
    EXPECT_EQ(std::signbit(back.results[0].timing->samples_s[i]), std::signbit(tricky[i]));
    EXPECT_EQ(back.results[0].timing->samples_s[i], tricky[i]) << i;
  }
  EXPECT_EQ(back, r);
}

TEST(JsonReport, NonFiniteIsNullAndReadsAsNan) {
  RunReport r = make_base_report();
  r.results[0].timing->stats.stddev = std::numeric_limits<double>::quiet_NaN();
  r.results[0].timing->bus_bw_Bps = std::numeric_limits<double>::infinity();
  const std::string text = to_text(r);
  const json j = json::parse(text);
  EXPECT_TRUE(j["results"][0]["timing"]["stats"]["stddev"].is_null());
  EXPECT_TRUE(j["results"][0]["timing"]["bus_bw_Bps"].is_null());
  const RunReport back = parse_run_report(text, "nan");
  EXPECT_TRUE(std::isnan(back.results[0].timing->stats.stddev));
  EXPECT_TRUE(std::isnan(back.results[0].timing->bus_bw_Bps));
}

TEST(JsonReport, InvalidUtf8IsReplacedNotFatal) {
  RunReport r = make_base_report();
  r.results[2].skip_reason = std::string("bad \xff\xfe bytes");
  std::string text;
  ASSERT_NO_THROW(text = to_text(r));
  const RunReport back = parse_run_report(text, "utf8");
  EXPECT_EQ(back.results[2].skip_reason, "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST(JsonReport, SchemaSectionsAndFields) {
  const nlohmann::ordered_json j = to_json(make_base_report());
  std::vector<std::string> top;
  for (const auto& [k, v] : j.items())
    top.push_back(k);
  EXPECT_EQ(top, (std::vector<std::string>{"schema", "context", "config", "launch_floors",
                                           "results", "speedups"}));
  EXPECT_EQ(j["schema"]["name"], "dcpbench-report");
  EXPECT_EQ(j["schema"]["version"], "1.2");
  for (const char* k : {"tool_version", "git_sha", "build_type", "argv", "utc_time", "world_size",
                        "hosts", "ranks", "nccl_compiled_version", "topology", "notes"}) {
    EXPECT_TRUE(j["context"].contains(k)) << k;
  }
  for (const char* k :
       {"rank", "local_rank", "host", "device", "gpu_name", "gpu_uuid", "pci_bus_id", "sm_count",
        "cc_major", "cc_minor", "driver_version", "runtime_version", "nccl_version"}) {
    EXPECT_TRUE(j["context"]["ranks"][0].contains(k)) << k;
  }
  const auto& row = j["results"][0];
  std::vector<std::string> keys;
  for (const auto& [k, v] : row.items())
    keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"key",       "exchange_key",   "impl",
                                            "op",        "cp_size",        "batch",
                                            "tokens",    "heads",          "model",
                                            "head_dim",  "stats_dim",      "lse_base",
                                            "dtype",     "launch",         "pdl",
                                            "workspace", "status",         "skip_reason",
                                            "error",     "bytes_per_rank", "workspace_bytes",
                                            "detail",    "verify",         "timing",
                                            "parts",     "accuracy",       "hang"}));
  EXPECT_EQ(row["key"],
            "cp=2 batch=1 head_dim=128 stats_dim=2 dtype=bf16 launch=graph pdl=on "
            "workspace=ipc");
  EXPECT_EQ(row["pdl"], true);
  EXPECT_TRUE(j["results"][1]["pdl"].is_null());
  std::vector<std::string> stats;
  for (const auto& [k, v] : row["timing"]["stats"].items())
    stats.push_back(k);
  EXPECT_EQ(stats, (std::vector<std::string>{"count", "min", "max", "mean", "stddev", "p5", "p50",
                                             "p95", "p99", "median_ci95"}));
  EXPECT_EQ(row["timing"]["stats"]["median_ci95"].size(), 2u);
  EXPECT_EQ(row["timing"]["samples_s"].size(), 33u);
  EXPECT_TRUE(j["results"][2]["timing"].is_null());
  EXPECT_EQ(j["results"][2]["status"], "skipped");
  for (const char* k :
       {"calls_checked", "rows_checked", "bad_rows", "mismatched_elements", "first_mismatch"}) {
    EXPECT_TRUE(row["verify"].contains(k)) << k;
  }
  EXPECT_EQ(j["config"]["batch"], json::array({1, 16}));
  EXPECT_EQ(j["launch_floors"][0]["launch"], "graph");
  EXPECT_EQ(j["speedups"].size(), 2u);
  EXPECT_EQ(j["speedups"][0]["baseline_impl"], "nccl-2x");
  EXPECT_EQ(j["speedups"][0]["speedup_ci95"].size(), 2u);
}

TEST(JsonReport, GoldenFile) {
  testing::expect_golden("report_small.json", to_text(make_base_report()));
  EXPECT_EQ(read_run_report(testing::golden_path("report_small.json")), make_base_report());
}

TEST(JsonReport, AcceptsNewerMinorVersionAndUnknownKeys) {
  json j = base_json();
  j["schema"]["version"] = "1.7";
  j["something_new"] = {{"a", 1}};
  j["results"][0]["new_field"] = 3;
  EXPECT_EQ(run_report_from_json(j, "newer"), make_base_report());
}

TEST(JsonReport, RejectsOtherMajorVersion) {
  for (const char* v : {"2.0", "0.9", "10.0"}) {
    json j = base_json();
    j["schema"]["version"] = v;
    const std::string e = error_of(j);
    EXPECT_NE(e.find("crafted.json"), std::string::npos) << e;
    EXPECT_NE(e.find("schema.version"), std::string::npos) << e;
    EXPECT_NE(e.find(v), std::string::npos) << e;
  }
  for (const char* v : {"1", "1.", ".1", "one.zero", "1.0.0", "-1.0", "", "99999999999.0"}) {
    json j = base_json();
    j["schema"]["version"] = v;
    EXPECT_NE(error_of(j).find("schema.version"), std::string::npos) << v;
  }
}

TEST(JsonReport, RejectsOtherSchemaName) {
  json j = base_json();
  j["schema"]["name"] = "dcpbench-compare";
  EXPECT_NE(error_of(j).find("schema.name"), std::string::npos);
  j.erase("schema");
  EXPECT_NE(error_of(j).find("'schema': missing"), std::string::npos) << error_of(j);
  EXPECT_NE(error_of(json::array()).find("not a dcpbench report"), std::string::npos);
  EXPECT_NE(error_of(json(42)).find("not a dcpbench report"), std::string::npos);
}

TEST(JsonReport, RejectsTruncatedFilesAtEveryLength) {
  const std::string text = to_text(make_base_report());
  for (std::size_t n = 0; n + 1 < text.size(); n += 7) {
    const std::string e = error_of_text(text.substr(0, n));
    ASSERT_FALSE(e.empty()) << "prefix of " << n << " bytes was accepted";
    EXPECT_NE(e.find("crafted.json"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << "message is not one line: " << e;
  }
}

TEST(JsonReport, RejectsNonJsonAndHostileInput) {
  for (const std::string& text :
       {std::string(), std::string("hello"), std::string("\x00\x01\x02", 3),
        std::string("{\"schema\": "), std::string("[1, 2"), std::string("1e99999"),
        std::string("\"\xff\xfe\""), std::string(200000, '['), std::string(100000, '{'),
        std::string("[\"") + std::string(70, '[') + "\"]"}) {
    const std::string e = error_of_text(text);
    EXPECT_FALSE(e.empty()) << text.substr(0, 20);
    EXPECT_NE(e.find("crafted.json"), std::string::npos) << e;
  }
  EXPECT_NE(error_of_text(std::string(1000, '[')).find("deeper than"), std::string::npos);
}

TEST(JsonReport, EveryMissingMemberIsNamed) {
  const json base = base_json();
  std::vector<json::json_pointer> ptrs;
  member_pointers(base, json::json_pointer(), ptrs);
  ASSERT_GT(ptrs.size(), 100u);
  for (const auto& p : ptrs) {
    const std::string path = field_path(p);
    if (ignored_member(path)) continue;
    json j = base;
    j[p.parent_pointer()].erase(p.back());
    const std::string e = error_of(j);
    ASSERT_FALSE(e.empty()) << "removing " << path << " was accepted";
    EXPECT_NE(e.find("'" + path + "'"), std::string::npos) << path << " -> " << e;
  }
}

// Schema 1.1 names the implementation of every speedup (impl, impl_key); a 1.0 report had only
// native's speedups, keyed by native_key, and still reads.
TEST(JsonReport, SchemaOneZeroSpeedupsReadAsNatives) {
  json j = base_json();
  ASSERT_FALSE(j["speedups"].empty());
  j["schema"]["version"] = "1.0";
  for (auto& s : j["speedups"]) {
    EXPECT_EQ(s["native_key"], s["impl_key"]);
    s.erase("impl");
    s.erase("impl_key");
  }
  const RunReport back = run_report_from_json(j, "old.json");
  const RunReport want = make_base_report();
  EXPECT_EQ(back.speedups, want.speedups);
  for (const auto& s : back.speedups)
    EXPECT_EQ(s.impl, "native");
}

TEST(JsonReport, EveryWrongTypeIsNamed) {
  const json base = base_json();
  std::vector<json::json_pointer> ptrs;
  member_pointers(base, json::json_pointer(), ptrs);
  for (const auto& p : ptrs) {
    const std::string path = field_path(p);
    if (ignored_member(path)) continue;
    json j = base;
    // A string, or a list of strings (a scalar string would read as a one-element list), gets a
    // number; anything else a string.
    const bool strings =
        j[p].is_string() || (j[p].is_array() && !j[p].empty() && j[p][0].is_string());
    j[p] = strings ? json(7) : json("x");
    const std::string e = error_of(j);
    ASSERT_FALSE(e.empty()) << "a wrong type at " << path << " was accepted";
    if (path.rfind("config.", 0) == 0) {
      // The config section goes through spec_from_json, whose messages start with the key.
      EXPECT_NE(e.find("'config'"), std::string::npos) << e;
      EXPECT_NE(e.find(path.substr(7)), std::string::npos) << path << " -> " << e;
    } else if (path == "schema.version" || path == "schema.name") {
      EXPECT_NE(e.find(path), std::string::npos) << e;
    } else {
      EXPECT_NE(e.find("'" + path + "'"), std::string::npos) << path << " -> " << e;
    }
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(JsonReport, RejectsSpecificBadValues) {
  struct Case {
    const char* pointer;
    json value;
    const char* expect;
  };
  const std::vector<Case> cases{
      {"/context/world_size", 2.5, "'context.world_size': expected an integer"},
      {"/results/0/bytes_per_rank", -5, "'results[0].bytes_per_rank': -5 is negative"},
      {"/results/0/cp_size", 1e20, "'results[0].cp_size': expected an integer"},
      {"/results/0/batch", json(std::numeric_limits<std::uint64_t>::max()), "'results[0].batch'"},
      {"/results/0/status", "great", "'results[0].status': unknown value \"great\""},
      {"/results/0/dtype", "fp8", "'results[0].dtype': unknown value"},
      {"/results/0/pdl", "on", "'results[0].pdl': expected true or false"},
      {"/results/0/timing/stats/median_ci95", json::array({1.0}),
       "'results[0].timing.stats.median_ci95': expected [low, high]"},
      {"/results/0/timing/samples_s/3", "x", "'results[0].timing.samples_s[3]'"},
      {"/results/0/key", "cp=3 batch=1", "'results[0].key': \"cp=3 batch=1\" does not match"},
      {"/results/0/exchange_key", "cp=2", "'results[0].exchange_key'"},
      {"/results/0/verify/first_mismatch", json::object({{"tensor", "partial_o"}}),
       "'results[0].verify.first_mismatch.dst_rank': missing"},
      {"/launch_floors/0/timing", json::array(), "'launch_floors[0].timing': expected an object"},
      {"/results", json::object(), "'results': expected an array"},
      {"/config/batch", json::array({-1}), "batch"},
      {"/config/head_dim", json::array({0}), "head_dim"},
  };
  for (const auto& c : cases) {
    json j = base_json();
    j[json::json_pointer(c.pointer)] = c.value;
    const std::string e = error_of(j);
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.pointer << " -> " << e;
    EXPECT_NE(e.find("report 'crafted.json'"), std::string::npos) << e;
  }
}

TEST(JsonReport, ReadFileErrorsNameThePath) {
  try {
    (void)read_run_report("/nonexistent/dir/report.json");
    FAIL() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/report.json"), std::string::npos);
    EXPECT_EQ(e.exit_code(), ExitCode::kUsage);
  }
  EXPECT_THROW((void)read_run_report(DCP_GOLDEN_DIR), ReportError);
  EXPECT_THROW((void)read_run_report(testing::golden_path("compare_truncated.json")), ReportError);
}

}  // namespace
}  // namespace dcp::report
