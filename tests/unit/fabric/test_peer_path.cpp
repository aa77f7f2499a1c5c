// The path classifier (fabric/peer_path.hpp): the pure rule over crafted evidence, the table and
// its wire format, the LL128 "validated paths only" rule and its one-line message, and the NVML
// probe of a pair against the fake NVML.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "fabric/nvml.hpp"
#include "fabric/peer_path.hpp"

namespace dcp::fabric {
namespace {

PathEvidence same_host() {
  PathEvidence e;
  e.same_host = true;
  e.nvml_ok = true;
  return e;
}

TEST(PeerPath, ClassifiesEveryKind) {
  PathEvidence gpu;
  gpu.same_gpu = gpu.same_host = true;
  EXPECT_EQ(classify_path(0, 1, gpu).kind, PathKind::kSameGpu);

  PathEvidence p2p = same_host();
  p2p.p2p_nvlink_status = 0;
  EXPECT_EQ(classify_path(0, 1, p2p).kind, PathKind::kNvlink);
  EXPECT_EQ(classify_path(0, 1, p2p).detail, "NVML P2P NVLink status OK");

  PathEvidence direct = same_host();
  direct.p2p_nvlink_status = 5;
  direct.direct_links = 4;
  EXPECT_EQ(classify_path(0, 1, direct).kind, PathKind::kNvlink);
  EXPECT_EQ(classify_path(0, 1, direct).detail, "4 active NVLinks to the peer");

  PathEvidence sw = same_host();
  sw.self_switch_links = 18;
  sw.peer_switch_links = 17;
  EXPECT_EQ(classify_path(0, 1, sw).kind, PathKind::kNvlink);
  EXPECT_NE(classify_path(0, 1, sw).detail.find("NVSwitch"), std::string::npos);

  PathEvidence half = same_host();  // one side on a switch is not a path
  half.self_switch_links = 18;
  half.p2p_nvlink_status = 5;
  half.p2p_nvlink_text = "NOT_SUPPORTED";
  const PeerPath pcie = classify_path(2, 3, half);
  EXPECT_EQ(pcie.kind, PathKind::kPcie);
  EXPECT_EQ(pcie.rank, 2);
  EXPECT_EQ(pcie.peer, 3);
  EXPECT_EQ(pcie.detail, "no NVLink between them (NVML P2P NVLink status NOT_SUPPORTED)");

  PathEvidence no_nvml;
  no_nvml.same_host = true;
  no_nvml.nvml_error = "dlopen failed";
  EXPECT_EQ(classify_path(0, 1, no_nvml).kind, PathKind::kUnknown);
  EXPECT_NE(classify_path(0, 1, no_nvml).detail.find("dlopen failed"), std::string::npos);

  PathEvidence far;
  far.fabric_detail = "hosts a and b";
  EXPECT_EQ(classify_path(0, 1, far).kind, PathKind::kNetwork);
  far.same_fabric_clique = true;
  EXPECT_EQ(classify_path(0, 1, far).kind, PathKind::kMnnvl);
}

TEST(PeerPath, ValidatedKinds) {
  EXPECT_TRUE(ll128_validated(PathKind::kSameGpu));
  EXPECT_TRUE(ll128_validated(PathKind::kNvlink));
  EXPECT_TRUE(ll128_validated(PathKind::kMnnvl));
  EXPECT_FALSE(ll128_validated(PathKind::kPcie));
  EXPECT_FALSE(ll128_validated(PathKind::kNetwork));
  EXPECT_FALSE(ll128_validated(PathKind::kUnknown));
}

PeerPathTable table_of(int world, PathKind k01, PathKind k10) {
  std::vector<std::vector<PeerPath>> rows(static_cast<std::size_t>(world));
  rows[0].push_back(PeerPath{0, 1, k01, "a"});
  rows[1].push_back(PeerPath{1, 0, k10, "b"});
  return assemble_table(world, rows);
}

TEST(PeerPath, ProblemIsNulloptOnValidatedPathsOrWithTheOverride) {
  EXPECT_FALSE(ll128_path_problem(table_of(2, PathKind::kNvlink, PathKind::kNvlink), false));
  const auto pcie = table_of(2, PathKind::kNvlink, PathKind::kPcie);
  EXPECT_FALSE(ll128_path_problem(pcie, true));
  const auto msg = ll128_path_problem(pcie, false);
  ASSERT_TRUE(msg);
  EXPECT_EQ(*msg,
            "paths: ranks 1 -> 0 are joined by PCIe (b), where the LL128 wire format is not "
            "validated (NVLink only); use --impl nccl-*, or --allow-unvalidated-path at your own "
            "risk (1 unvalidated pair in all)");
  EXPECT_EQ(msg->find('\n'), std::string::npos);  // one line
  const auto unk = ll128_path_problem(table_of(2, PathKind::kUnknown, PathKind::kUnknown), false);
  ASSERT_TRUE(unk);
  EXPECT_NE(unk->find("ranks 0 -> 1 are joined by a path NVML cannot classify"), std::string::npos);
  EXPECT_NE(unk->find("(2 unvalidated pairs in all)"), std::string::npos);
  EXPECT_EQ(unvalidated_paths(table_of(2, PathKind::kNetwork, PathKind::kNvlink)).size(), 1u);
}

TEST(PeerPath, AssembleFillsTheDiagonalAndFlagsMissingRows) {
  std::vector<std::vector<PeerPath>> rows(3);
  rows[0] = {PeerPath{0, 1, PathKind::kNvlink, ""}, PeerPath{0, 2, PathKind::kNvlink, ""}};
  const PeerPathTable t = assemble_table(3, rows);
  EXPECT_EQ(t.at(1, 1).kind, PathKind::kSameGpu);
  EXPECT_EQ(t.at(0, 2).kind, PathKind::kNvlink);
  EXPECT_EQ(t.at(2, 1).kind, PathKind::kUnknown);  // rank 2 reported nothing
  EXPECT_NE(t.at(2, 1).detail.find("rank 2 reported no path to rank 1"), std::string::npos);
  // A row naming an impossible pair is ignored, not written out of bounds.
  rows[1] = {PeerPath{7, 1, PathKind::kPcie, ""}, PeerPath{1, 1, PathKind::kPcie, ""}};
  EXPECT_EQ(assemble_table(3, rows).at(1, 1).kind, PathKind::kSameGpu);
}

TEST(PeerPath, WireFormatRoundTrips) {
  const std::vector<PeerPath> row{PeerPath{1, 0, PathKind::kPcie, "tab\there\nnewline"},
                                  PeerPath{1, 2, PathKind::kMnnvl, ""}};
  const auto back = decode_row(encode_row(row), "test");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].kind, PathKind::kPcie);
  EXPECT_EQ(back[0].detail, "tab here newline");  // separators cannot leak into fields
  EXPECT_EQ(back[1], row[1]);
  EXPECT_THROW((void)decode_row("1\t0\t99\tx\n", "test"), Error);
  EXPECT_THROW((void)decode_row("1\tzero\t1\tx\n", "test"), Error);
  EXPECT_THROW((void)decode_row("1\t0\n", "test"), Error);

  GpuIdentity id{"node0", "GPU-1", "00000000:18:00.0", true, "1111", 7};
  EXPECT_EQ(decode_identity(encode_identity(id), "test"), id);
  EXPECT_THROW((void)decode_identity("a\tb", "test"), Error);
}

TEST(PeerPath, ProbeAgainstTheFakeNvml) {
  const GpuIdentity a{
      "node0", "GPU-00000000-0000-0000-0000-000000000000", "00000000:10:00.0", false, "", 0};
  GpuIdentity b = a;
  b.uuid = "GPU-00000001-0000-0000-0000-000000000000";
  b.bus_id = "00000000:11:00.0";
  {
    setenv("DCP_FAKE_NVML", "links=4", 1);
    const Nvml nvml(DCP_FAKE_NVML_FULL);
    const PathEvidence e = probe_path_evidence(nvml, a, b);
    EXPECT_TRUE(e.nvml_ok);
    EXPECT_EQ(e.p2p_nvlink_status, 0);
    EXPECT_EQ(e.self_switch_links, 4);
    EXPECT_EQ(e.peer_switch_links, 4);
    EXPECT_EQ(classify_row(nvml, 0, {a, b}).front().kind, PathKind::kNvlink);
  }
  {
    setenv("DCP_FAKE_NVML", "links=0;p2p=not_supported", 1);
    const Nvml nvml(DCP_FAKE_NVML_FULL);
    const auto row = classify_row(nvml, 1, {a, b});
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(row[0].rank, 1);
    EXPECT_EQ(row[0].peer, 0);
    EXPECT_EQ(row[0].kind, PathKind::kPcie);
  }
  {
    setenv("DCP_FAKE_NVML", "links=2;remote=direct;p2p=not_supported", 1);
    const Nvml nvml(DCP_FAKE_NVML_FULL);
    EXPECT_EQ(probe_path_evidence(nvml, a, b).direct_links, 2);
    EXPECT_EQ(classify_row(nvml, 0, {a, b}).front().kind, PathKind::kNvlink);
  }
  unsetenv("DCP_FAKE_NVML");
  const Nvml none("/nonexistent/libnvidia-ml.so.1");
  EXPECT_EQ(classify_row(none, 0, {a, b}).front().kind, PathKind::kUnknown);
  GpuIdentity far = b;
  far.host = "node1";
  EXPECT_EQ(classify_row(none, 0, {a, far}).front().kind, PathKind::kNetwork);
  GpuIdentity shared = a;
  EXPECT_EQ(classify_row(none, 0, {a, shared}).front().kind, PathKind::kSameGpu);
}

TEST(PeerPath, FabricCliqueAcrossHosts) {
  GpuIdentity a{"node0", "GPU-a", "", true, "cl-1", 3};
  GpuIdentity b{"node1", "GPU-b", "", true, "cl-1", 3};
  const Nvml none("/nonexistent/libnvidia-ml.so.1");
  EXPECT_EQ(classify_path(0, 1, probe_path_evidence(none, a, b)).kind, PathKind::kMnnvl);
  b.clique_id = 4;
  const PeerPath p = classify_path(0, 1, probe_path_evidence(none, a, b));
  EXPECT_EQ(p.kind, PathKind::kNetwork);
  EXPECT_NE(p.detail.find("clique 4"), std::string::npos) << p.detail;
  b.clique_id = 3;
  b.fabric_registered = false;
  EXPECT_EQ(classify_path(0, 1, probe_path_evidence(none, a, b)).kind, PathKind::kNetwork);
}

TEST(PeerPath, IdentityTakesTheFabricRegistrationFromNvml) {
  setenv("DCP_FAKE_NVML", "clique=5", 1);
  const Nvml nvml(DCP_FAKE_NVML_FULL);
  const GpuIdentity id =
      make_identity(nvml, "node0", "GPU-00000000-0000-0000-0000-000000000000", "0000:10:00.0");
  EXPECT_TRUE(id.fabric_registered);
  EXPECT_EQ(id.clique_id, 5u);
  EXPECT_EQ(id.bus_id, "00000000:10:00.0");
  setenv("DCP_FAKE_NVML", "fabric=in_progress", 1);
  EXPECT_FALSE(make_identity(nvml, "node0", "GPU-00000000-0000-0000-0000-000000000000", "")
                   .fabric_registered);
  unsetenv("DCP_FAKE_NVML");
}

}  // namespace
}  // namespace dcp::fabric
