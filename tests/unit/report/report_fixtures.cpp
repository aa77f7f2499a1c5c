#include "report_fixtures.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/bandwidth.hpp"
#include "core/stats.hpp"
#include "metadata_catalog.hpp"

namespace dcp::testing {

namespace {

constexpr std::size_t kSamples = 33;

CaseResult make_row(std::int64_t batch, const std::string& impl, double median_s, double spread,
                    std::uint32_t seed) {
  CaseResult r;
  r.c.cp_size = 2;
  r.c.batch = batch;
  r.c.head_dim = 128;
  r.c.stats_dim = 2;
  r.c.dtype = DType::kBf16;
  r.c.launch = LaunchMode::kGraph;
  if (impl == "native") {
    r.c.pdl = true;
    r.c.workspace = WorkspaceKind::kIpc;
    r.workspace_bytes = 2 * 1024 * 1024;
    r.detail = "channels=4 lines_per_peer=3";
  } else {
    r.detail = "NCCL 2.28.9, two ncclAlltoAll calls";
  }
  r.impl = impl;
  r.bytes_per_rank = r.c.bytes_per_rank();
  r.status = CaseStatus::kOk;
  r.verify.calls_checked = 40;
  r.verify.rows_checked = 40ULL * static_cast<std::uint64_t>(batch) * 2 * 2;
  r.timing = make_timing(make_samples(median_s, spread, kSamples, seed), r.bytes_per_rank, 2);
  return r;
}

CaseResult make_skipped(std::int64_t batch, const std::string& impl, std::string reason) {
  CaseResult r = make_row(batch, impl, 1e-6, 0.0, 1);
  r.status = CaseStatus::kSkipped;
  r.skip_reason = std::move(reason);
  r.timing.reset();
  r.verify = VerifyOutcome{};
  r.detail.clear();
  return r;
}

RankInfo make_rank(int rank, const char* pci, const char* uuid) {
  RankInfo r;
  r.rank = rank;
  r.local_rank = rank;
  r.host = "gpu-node-1";
  r.device = rank;
  r.gpu_name = "NVIDIA H200";
  r.gpu_uuid = uuid;
  r.pci_bus_id = pci;
  r.sm_count = 132;
  r.cc_major = 9;
  r.cc_minor = 0;
  r.driver_version = "13.0";
  r.runtime_version = "13.0";
  r.nccl_version = "2.28.9";
  return r;
}

}  // namespace

std::vector<double> make_samples(double median_s, double spread, std::size_t n,
                                 std::uint32_t seed) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0.5;
    v[i] = median_s * (1.0 + spread * (u - 0.5));
  }
  // Deterministic Fisher-Yates with an LCG, so the samples are not sorted.
  std::uint32_t state = seed;
  for (std::size_t i = n; i > 1; --i) {
    state = state * 1664525u + 1013904223u;
    std::swap(v[i - 1], v[state % i]);
  }
  return v;
}

Timing make_timing(std::vector<double> samples, std::uint64_t bytes_per_rank, int cp) {
  Timing t;
  t.samples_s = std::move(samples);
  t.stats = summarize(t.samples_s);
  t.alg_bw_Bps = alg_bw_Bps(static_cast<double>(bytes_per_rank), t.stats.p50);
  t.bus_bw_Bps = bus_bw_alltoall_Bps(t.alg_bw_Bps, cp);
  return t;
}

void scale_timing(CaseResult& r, double factor) {
  std::vector<double> s = r.timing.value().samples_s;
  for (double& v : s)
    v *= factor;
  r.timing = make_timing(std::move(s), r.bytes_per_rank, r.c.cp_size);
}

RunReport make_base_report() {
  RunReport rep;
  RunContext& c = rep.context;
  c.tool_version = "0.1.0";
  c.git_sha = "1a2b3c4d5e6f";
  c.build_type = "Release";
  c.argv = {"dcpbench", "run", "--config", "configs/regression.json", "--json", "base.json"};
  c.utc_time = "2026-11-24T23:19:47Z";
  c.world_size = 2;
  c.hosts = {"gpu-node-1"};
  c.ranks = {make_rank(0, "0000:19:00.0", "GPU-5c0f6a4e-0000-1111-2222-333344445555"),
             make_rank(1, "0000:3b:00.0", "GPU-9d1e7b5f-6666-7777-8888-9999aaaabbbb")};
  c.nccl_compiled_version = "2.28.9";
  c.topology = "1 host x 2 GPUs, NVLink peer access";
  c.notes = {"crafted report for the report tests"};

  SweepAxes& a = rep.spec.axes;
  a.batch = {1, 16};
  a.head_dim = {128};
  a.stats_dim = {2};
  a.dtype = {DType::kBf16};
  a.cp_size = {2};
  a.impl = {"native", "nccl-2x", "nccl-device"};
  a.workspace = {WorkspaceKind::kIpc};
  a.launch = {LaunchMode::kGraph};
  a.pdl = {true};
  rep.spec.measure.warmup = 5;
  rep.spec.measure.iters = static_cast<int>(kSamples);
  rep.spec.measure.timeout_s = 2.5;

  const std::string nccl2x("nccl-2x");
  const std::string device("nccl-device");
  const std::string native("native");
  rep.results.push_back(make_row(1, native, 1.63e-6, 0.04, 11));
  rep.results.push_back(make_row(1, nccl2x, 12.3e-6, 0.50, 12));
  rep.results.push_back(make_skipped(
      1, device, "needs the NCCL device API (\"symmetric memory\"), found 2.27, not 2.28"));
  rep.results.push_back(make_row(16, native, 1.85e-6, 0.04, 13));
  rep.results.push_back(make_row(16, nccl2x, 12.9e-6, 0.50, 14));
  rep.results.push_back(make_skipped(16, device, "window registration failed:\nline two, \"x\""));

  LaunchFloor f;
  f.launch = LaunchMode::kGraph;
  f.cp_size = 2;
  f.timing = make_timing(make_samples(0.52e-6, 0.10, kSamples, 15), 0, 2);
  f.timing.alg_bw_Bps = 0;
  f.timing.bus_bw_Bps = 0;
  rep.launch_floors.push_back(f);
  rep.speedups = compute_speedups(rep.results, metadata_catalog());
  return rep;
}

CaseResult& row(RunReport& report, std::int64_t batch, const std::string& impl) {
  for (auto& r : report.results) {
    if (r.c.batch == batch && r.impl == impl) return r;
  }
  throw std::logic_error("fixture row not found");
}

RunReport make_slower_report() {
  RunReport r = make_base_report();
  r.context.git_sha = "fedcba987654";
  scale_timing(row(r, 16, "native"), 1.25);
  r.speedups = compute_speedups(r.results, metadata_catalog());
  return r;
}

RunReport make_faster_report() {
  RunReport r = make_base_report();
  scale_timing(row(r, 16, "native"), 0.80);
  r.speedups = compute_speedups(r.results, metadata_catalog());
  return r;
}

RunReport make_noisy_report() {
  RunReport r = make_base_report();
  scale_timing(row(r, 1, "nccl-2x"), 1.06);
  r.speedups = compute_speedups(r.results, metadata_catalog());
  return r;
}

RunReport make_missing_report() {
  RunReport r = make_base_report();
  std::erase_if(r.results,
                [](const CaseResult& x) { return x.c.batch == 16 && x.impl == "native"; });
  r.speedups = compute_speedups(r.results, metadata_catalog());
  return r;
}

RunReport make_verify_report() {
  RunReport r = make_base_report();
  CaseResult& x = row(r, 1, "native");
  x.status = CaseStatus::kVerifyFailed;
  x.verify.bad_rows = 3;
  x.verify.mismatched_elements = 17;
  x.verify.first = Mismatch{"partial_o", 1, 0, 0, 5, 2, 0x3f80u, 0x3f81u};
  r.speedups = compute_speedups(r.results, metadata_catalog());
  return r;
}

RunReport make_env_report() {
  RunReport r = make_base_report();
  r.context.hosts = {"gpu-node-1", "gpu-node-2"};
  r.context.topology = "2 hosts x 1 GPU, MNNVL fabric";
  for (auto& rank : r.context.ranks) {
    rank.gpu_name = "NVIDIA H100 80GB HBM3";
    rank.driver_version = "13.1";
  }
  r.context.ranks[1].host = "gpu-node-2";
  r.context.ranks[1].local_rank = 0;
  return r;
}

RunReport make_unrelated_report() {
  RunReport r = make_base_report();
  r.spec.axes.head_dim = {512};
  for (auto& x : r.results) {
    x.c.head_dim = 512;
    x.bytes_per_rank = x.c.bytes_per_rank();
  }
  r.speedups = compute_speedups(r.results, metadata_catalog());
  return r;
}

}  // namespace dcp::testing
