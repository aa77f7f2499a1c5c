// diag printers: the table against a golden file, the JSON fields, the JSON round trip, and the
// reader's errors. Golden files live in tests/golden/diag_*; rewrite them with
// DCP_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "report/diag_report.hpp"

namespace dcp::report {
namespace {

std::string golden_path(const std::string& name) {
  return std::string(DCP_SOURCE_DIR) + "/tests/golden/" + name;
}

/// Compares `text` with the golden file, or rewrites it when DCP_UPDATE_GOLDEN is set.
void expect_golden(const std::string& name, const std::string& text) {
  const std::string path = golden_path(name);
  if (std::getenv("DCP_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << text;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with DCP_UPDATE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(text, want.str()) << "differs from " << path;
}

DiagCheck check(std::string group, std::string name, DiagScope scope, std::vector<int> ranks,
                Verdict v, std::string value, std::string hint = "") {
  DiagCheck c;
  c.group = std::move(group);
  c.name = std::move(name);
  c.scope = scope;
  c.ranks = std::move(ranks);
  c.verdict = v;
  c.value = std::move(value);
  c.hint = std::move(hint);
  return c;
}

/// Two ranks on one host: fabric WARN (no IMEX), a skipped pair, matrices with a self diagonal
/// and an unmeasured cell.
DiagReport small_report() {
  DiagReport r;
  RunContext& c = r.context;
  c.tool_version = "0.1.0";
  c.git_sha = "abc1234";
  c.build_type = "Release";
  c.argv = {"dcpbench", "diag", "--quick"};
  c.utc_time = "2026-11-25T10:00:00Z";
  c.world_size = 2;
  c.hosts = {"node0"};
  for (int i = 0; i < 2; ++i) {
    RankInfo ri;
    ri.rank = i;
    ri.local_rank = i;
    ri.host = "node0";
    ri.device = i;
    ri.gpu_name = "NVIDIA H200";
    ri.gpu_uuid = "GPU-000" + std::to_string(i);
    ri.pci_bus_id = "00000000:1" + std::to_string(i) + ":00.0";
    ri.sm_count = 132;
    ri.cc_major = 9;
    ri.cc_minor = 0;
    ri.driver_version = "13.0";
    ri.runtime_version = "13.0";
    ri.nccl_version = "2.28.9";
    c.ranks.push_back(ri);
  }
  c.nccl_compiled_version = "2.28.9";
  c.topology = "1 host(s), 2 rank(s), 2 per host; NVIDIA H200 x2";
  c.notes = {"a note"};
  r.options.quick = true;
  r.options.timeout_s = 10;
  r.options.groups = {"devices", "fabric", "latency", "bandwidth"};
  r.checks.push_back(check("devices", "gpu", DiagScope::kRank, {0}, Verdict::kPass,
                           "NVIDIA H200 (GPU-0000), cc 9.0, 132 SMs, host node0"));
  r.checks.push_back(check("devices", "versions", DiagScope::kJob, {}, Verdict::kPass,
                           "driver 13.0, runtime 13.0, NCCL 2.28.9 (compiled 2.28.9)"));
  DiagCheck fab = check("fabric", "fabric_create", DiagScope::kRank, {1}, Verdict::kWarn,
                        "cuMemCreate(CU_MEM_HANDLE_TYPE_FABRIC) failed: CUDA_ERROR_NOT_PERMITTED",
                        "no IMEX channel: checked /dev/nvidia-caps-imex-channels");
  fab.detail = "workspace fabric: the long explanation";
  fab.remedy = "nothing to do on one host: use --workspace ipc (or auto)";
  r.checks.push_back(fab);
  r.checks.push_back(check("fabric", "fabric_import", DiagScope::kPair, {0, 1}, Verdict::kSkip, "",
                           "rank 1 has no fabric handle to export (see fabric_create)"));
  DiagCheck lat = check("latency", "latency", DiagScope::kPair, {0, 1}, Verdict::kPass,
                        "p50 0.68 us, p99 0.80 us, mean 0.69 us (1000 rounds)");
  lat.number = 0.68;
  lat.unit = "us";
  r.checks.push_back(lat);
  DiagCheck copy = check("bandwidth", "copy_bandwidth", DiagScope::kPair, {1, 0}, Verdict::kFail,
                         "", "the copy failed: cudaIpcOpenMemHandle failed");
  copy.remedy = "check the peer row of this pair (P2P access) and the driver, then rerun";
  r.checks.push_back(copy);

  DiagMatrix p50;
  p50.name = "latency_p50";
  p50.title = "one-way flag latency, p50";
  p50.unit = "s";
  p50.method = "ping-pong";
  p50.size = 2;
  p50.values = {0.41e-6, 0.68e-6, 0.68e-6, 0.42e-6};
  p50.diagonal = "self: two streams on the same GPU, not a link";
  r.matrices.push_back(p50);
  DiagMatrix p99 = p50;
  p99.name = "latency_p99";
  p99.title = "one-way flag latency, p99";
  p99.values = {0.5e-6, 0.8e-6, 0.8e-6, std::nullopt};
  r.matrices.push_back(p99);
  DiagMatrix bw;
  bw.name = "copy_bandwidth";
  bw.title = "copy bandwidth";
  bw.unit = "B/s";
  bw.method = "cudaMemcpyAsync";
  bw.size = 2;
  bw.values = {1.5e12, 392.06e9, std::nullopt, 1.5e12};
  bw.diagonal = "self: device-local copy on the same GPU, not a link";
  r.matrices.push_back(bw);
  r.summary = DiagSummary{3, 1, 1, 1, 1};
  return r;
}

TEST(DiagTable, Golden) {
  std::ostringstream os;
  write_diag_table(small_report(), os);
  expect_golden("diag_small.txt", os.str());
}

TEST(DiagTable, HintsOnlyUnderRowsThatAreNotPass) {
  std::ostringstream os;
  write_diag_table(small_report(), os);
  const std::string t = os.str();
  EXPECT_NE(t.find("hint: no IMEX channel"), std::string::npos);
  EXPECT_NE(t.find("method: as above"), std::string::npos);  // p99 repeats p50's method
  EXPECT_NE(t.find("Summary: 3 PASS, 1 WARN, 1 FAIL, 1 SKIP -> exit 1"), std::string::npos);
  EXPECT_EQ(t.find("hint: \n"), std::string::npos);
}

TEST(DiagJson, Golden) {
  std::ostringstream os;
  write_diag_json(small_report(), os);
  expect_golden("diag_small.json", os.str());
}

TEST(DiagJson, FieldsFollowTheSchema) {
  std::ostringstream os;
  write_diag_json(small_report(), os);
  const auto j = nlohmann::json::parse(os.str());
  EXPECT_EQ(j["schema"]["name"], "dcpbench-diag");
  EXPECT_EQ(j["schema"]["version"], "1.1");
  EXPECT_EQ(j["context"]["world_size"], 2);
  EXPECT_EQ(j["context"]["ranks"][1]["gpu_uuid"], "GPU-0001");
  EXPECT_EQ(j["options"]["quick"], true);
  EXPECT_EQ(j["options"]["checks"][2], "latency");
  EXPECT_EQ(j["summary"]["exit_code"], 1);
  EXPECT_EQ(j["summary"]["fail"], 1);
  const auto& fab = j["checks"][2];
  EXPECT_EQ(fab["group"], "fabric");
  EXPECT_EQ(fab["scope"], "rank");
  EXPECT_EQ(fab["ranks"], nlohmann::json::array({1}));
  EXPECT_EQ(fab["verdict"], "WARN");
  EXPECT_TRUE(fab["number"].is_null());
  EXPECT_EQ(fab["detail"], "workspace fabric: the long explanation");
  EXPECT_EQ(fab["remedy"], "nothing to do on one host: use --workspace ipc (or auto)");
  EXPECT_EQ(j["checks"][0]["remedy"], "");
  EXPECT_EQ(j["checks"][4]["number"], 0.68);
  EXPECT_EQ(j["checks"][4]["unit"], "us");
  const auto& bw = j["matrices"][2];
  EXPECT_EQ(bw["unit"], "B/s");
  EXPECT_EQ(bw["size"], 2);
  EXPECT_DOUBLE_EQ(bw["values"][0][1].get<double>(), 392.06e9);
  EXPECT_TRUE(bw["values"][1][0].is_null());
}

TEST(DiagJson, RoundTrip) {
  const DiagReport r = small_report();
  std::ostringstream os;
  write_diag_json(r, os);
  std::istringstream is(os.str());
  const DiagReport back = read_diag_json(is, "mem");
  EXPECT_EQ(back, r);
}

std::string mutate(const std::function<void(nlohmann::json&)>& f) {
  std::ostringstream os;
  write_diag_json(small_report(), os);
  auto j = nlohmann::json::parse(os.str());
  f(j);
  return j.dump();
}

std::string read_error(const std::string& text) {
  std::istringstream is(text);
  try {
    (void)read_diag_json(is, "x.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(DiagJson, ReaderRejectsBadInputNamingTheField) {
  EXPECT_NE(read_error("{").find("diag report 'x.json': not valid JSON"), std::string::npos);
  EXPECT_NE(read_error(mutate([](auto& j) {
              j["schema"]["name"] = "dcpbench-report";
            })).find("is not a diag report"),
            std::string::npos);
  EXPECT_NE(read_error(mutate([](auto& j) {
              j["schema"]["version"] = "2.0";
            })).find("field 'schema.version': version 2.0"),
            std::string::npos);
  EXPECT_NE(read_error(mutate([](auto& j) {
              j["checks"][1].erase("verdict");
            })).find("field 'checks[1].verdict': missing"),
            std::string::npos);
  EXPECT_NE(read_error(mutate([](auto& j) {
              j["checks"][0]["verdict"] = "MAYBE";
            })).find("unknown verdict 'MAYBE'"),
            std::string::npos);
  EXPECT_NE(read_error(mutate([](auto& j) {
              j["matrices"][0]["values"][1] = {1.0};
            })).find("matrices[0].values[1]"),
            std::string::npos);
  EXPECT_NE(read_error(mutate([](auto& j) {
              j["summary"]["pass"] = "3";
            })).find("field 'summary.pass': expected an integer, got a string"),
            std::string::npos);
}

TEST(DiagJson, MinorVersionIsReadable) {
  const std::string text = mutate([](auto& j) {
    j["schema"]["version"] = "1.7";
    j["future_field"] = 1;
  });
  std::istringstream is(text);
  EXPECT_EQ(read_diag_json(is, "x").checks.size(), small_report().checks.size());
}

TEST(DiagJson, VersionOneZeroWithoutRemedyIsReadable) {
  const std::string text = mutate([](auto& j) {
    j["schema"]["version"] = "1.0";
    for (auto& c : j["checks"])
      c.erase("remedy");
  });
  std::istringstream is(text);
  const DiagReport back = read_diag_json(is, "x");
  ASSERT_EQ(back.checks.size(), small_report().checks.size());
  for (const auto& c : back.checks)
    EXPECT_TRUE(c.remedy.empty());
  EXPECT_NE(read_error(mutate([](auto& j) {
              j["checks"][2]["remedy"] = 3;
            })).find("field 'checks[2].remedy': expected a string"),
            std::string::npos);
}

TEST(DiagExplain, Golden) {
  std::ostringstream os;
  write_diag_explain(small_report(), os);
  expect_golden("diag_small_explain.txt", os.str());
}

TEST(DiagExplain, OnlyFailAndWarnRowsWithTheirRemedyOrASayso) {
  DiagReport r = small_report();
  std::ostringstream os;
  write_diag_explain(r, os);
  const std::string t = os.str();
  EXPECT_NE(t.find("WARN  fabric/fabric_create  ranks 1"), std::string::npos) << t;
  EXPECT_NE(t.find("  do:  nothing to do on one host"), std::string::npos) << t;
  EXPECT_NE(t.find("FAIL  bandwidth/copy_bandwidth  ranks 1->0"), std::string::npos) << t;
  EXPECT_EQ(t.find("fabric_import"), std::string::npos);  // SKIP
  EXPECT_EQ(t.find("devices/gpu"), std::string::npos);    // PASS
  r.checks[5].remedy.clear();
  std::ostringstream os2;
  write_diag_explain(r, os2);
  EXPECT_NE(os2.str().find("no remedy recorded (see the hint)"), std::string::npos);
  DiagReport clean = small_report();
  clean.checks.resize(2);
  std::ostringstream os3;
  write_diag_explain(clean, os3);
  EXPECT_NE(os3.str().find("Nothing to explain"), std::string::npos);
}

TEST(DiagDisplay, ScalesSiUnitsForHumans) {
  const DisplayValue us = display_value(0.7e-6, "s");
  EXPECT_DOUBLE_EQ(us.number, 0.7);
  EXPECT_EQ(us.unit, "us");
  EXPECT_EQ(us.text, "0.70 us");
  EXPECT_EQ(display_value(392.06e9, "B/s").text, "392.1 GB/s");
  EXPECT_DOUBLE_EQ(display_value(392.06e9, "B/s").number, 392.06);
  EXPECT_EQ(display_value(5, "lines").text, "5 lines");
  EXPECT_EQ(display_value(5, "").text, "5");
}

TEST(DiagMatrixCells, ScaledForHumans) {
  const DiagReport r = small_report();
  EXPECT_EQ(format_matrix_cell(r.matrices[0], 0, 1), "0.68");
  EXPECT_EQ(display_unit(r.matrices[0]), "us");
  EXPECT_EQ(format_matrix_cell(r.matrices[2], 0, 1), "392.1");
  EXPECT_EQ(format_matrix_cell(r.matrices[2], 1, 0), "-");
  EXPECT_EQ(display_unit(r.matrices[2]), "GB/s");
}

}  // namespace
}  // namespace dcp::report
