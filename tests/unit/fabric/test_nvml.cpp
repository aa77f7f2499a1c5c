// The NVML loader (fabric/nvml.hpp) against a missing library, a library that is not NVML, and
// a fake NVML built by the tests (fake_nvml.cpp) that answers from a scenario: the struct
// layouts and version word of the fabric info, the fallback to the v1 entry point, missing entry
// points, NVLink states, P2P status, and the pure decoders.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "fabric/nvml.hpp"

namespace dcp::fabric {
namespace {

/// Sets DCP_FAKE_NVML for the scope of a test.
class Scenario {
 public:
  explicit Scenario(const char* text) { setenv("DCP_FAKE_NVML", text, 1); }
  ~Scenario() { unsetenv("DCP_FAKE_NVML"); }
  Scenario(const Scenario&) = delete;
  Scenario& operator=(const Scenario&) = delete;
};

const std::string kGpu0 = "GPU-00000000-0000-0000-0000-000000000000";
const std::string kGpu1 = "GPU-00000001-0000-0000-0000-000000000000";

TEST(Nvml, MissingLibraryIsUnavailableWithTheReason) {
  const Nvml nvml("/nonexistent/libnvidia-ml.so.1");
  EXPECT_FALSE(nvml.available());
  EXPECT_NE(nvml.unavailable_reason().find("dlopen(/nonexistent/libnvidia-ml.so.1) failed"),
            std::string::npos)
      << nvml.unavailable_reason();
  const NvlinkReport links = nvml.nvlinks(kGpu0);
  EXPECT_FALSE(links.ok);
  EXPECT_EQ(links.error, nvml.unavailable_reason());
  const GpuFabricInfo f = nvml.fabric_info(kGpu0);
  EXPECT_FALSE(f.queried);
  EXPECT_EQ(f.unavailable, nvml.unavailable_reason());
  EXPECT_FALSE(nvml.p2p_nvlink(kGpu0, kGpu1).queried);
  EXPECT_EQ(nvml.gpu_count(), 0u);
}

TEST(Nvml, LibraryWithoutTheEntryPointsIsUnavailable) {
  // libm is on every glibc system and has none of NVML's symbols.
  const Nvml nvml("libm.so.6");
  EXPECT_FALSE(nvml.available());
  EXPECT_NE(nvml.unavailable_reason().find("lacks nvmlInit_v2"), std::string::npos)
      << nvml.unavailable_reason();
}

TEST(Nvml, InitFailureIsUnavailable) {
  const Scenario s("init=fail");
  const Nvml nvml(DCP_FAKE_NVML_FULL);
  EXPECT_FALSE(nvml.available());
  EXPECT_NE(nvml.unavailable_reason().find("nvmlInit_v2 failed: Driver Not Loaded"),
            std::string::npos)
      << nvml.unavailable_reason();
}

TEST(Nvml, LinksWithStateRemoteAndType) {
  const Scenario s("links=4;down=0:2");
  const Nvml nvml(DCP_FAKE_NVML_FULL);
  ASSERT_TRUE(nvml.available()) << nvml.unavailable_reason();
  const NvlinkReport r = nvml.nvlinks(kGpu0);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.supported);
  ASSERT_EQ(r.links.size(), 4u);
  EXPECT_TRUE(r.links[0].active);
  EXPECT_FALSE(r.links[2].active);
  EXPECT_EQ(r.links[2].index, 2);
  EXPECT_EQ(r.links[0].remote, NvlinkRemote::kSwitch);
  EXPECT_EQ(r.links[1].remote_bus_id, "00000000:a1:00.0");  // lower case, canonical
  EXPECT_TRUE(r.links[2].remote_bus_id.empty());            // inactive: not asked
  EXPECT_FALSE(nvml.nvlinks("GPU-nope").ok);
  EXPECT_NE(nvml.nvlinks("GPU-nope").error.find("nvmlDeviceGetHandleByUUID(GPU-nope) failed"),
            std::string::npos);
}

TEST(Nvml, DirectLinksNameThePeerGpu) {
  const Scenario s("links=2;remote=direct");
  const Nvml nvml(DCP_FAKE_NVML_FULL);
  const NvlinkReport r = nvml.nvlinks(kGpu0);
  ASSERT_EQ(r.links.size(), 2u);
  EXPECT_EQ(r.links[0].remote, NvlinkRemote::kGpu);
  EXPECT_EQ(r.links[0].remote_bus_id, "00000000:11:00.0");
}

TEST(Nvml, NoNvlinkIsSupportedFalse) {
  const Scenario s("links=0");
  const Nvml nvml(DCP_FAKE_NVML_FULL);
  const NvlinkReport r = nvml.nvlinks(kGpu0);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.supported);
  EXPECT_TRUE(r.links.empty());
}

TEST(Nvml, FabricInfoV2CarriesTheVersionWordAndHealth) {
  // The fake answers NVML_ERROR_ARGUMENT_VERSION_MISMATCH unless the version word is
  // sizeof(nvmlGpuFabricInfo_v2_t) | 2 << 24: a completed answer proves the layout.
  const Scenario s("health=0x1a9;clique=9");
  const Nvml nvml(DCP_FAKE_NVML_FULL);
  const GpuFabricInfo f = nvml.fabric_info(kGpu1);
  ASSERT_TRUE(f.queried) << f.unavailable;
  EXPECT_EQ(f.source, "nvmlDeviceGetGpuFabricInfoV (v2)");
  EXPECT_EQ(f.state, kFabricStateCompleted);
  EXPECT_EQ(f.status, kNvmlSuccess);
  EXPECT_EQ(f.clique_id, 9u);
  EXPECT_EQ(f.cluster_uuid, "11111111-1111-1111-1111-111111111111");
  EXPECT_TRUE(f.health_known);
  EXPECT_EQ(f.health_mask, 0x1a9u);
  EXPECT_TRUE(decode_fabric_health(f.health_mask).degraded_bandwidth);
}

TEST(Nvml, FabricInfoFallsBackToV1WithoutHealth) {
  const Scenario s("fabric=in_progress;cluster=0");
  const Nvml nvml(DCP_FAKE_NVML_V1);
  const GpuFabricInfo f = nvml.fabric_info(kGpu0);
  ASSERT_TRUE(f.queried) << f.unavailable;
  EXPECT_EQ(f.source, "nvmlDeviceGetGpuFabricInfo (v1)");
  EXPECT_EQ(f.state, kFabricStateInProgress);
  EXPECT_TRUE(f.cluster_uuid.empty());
  EXPECT_FALSE(f.health_known);
}

TEST(Nvml, FabricInfoMissingEntryPointsIsSaid) {
  const Nvml nvml(DCP_FAKE_NVML_NO_FABRIC);
  ASSERT_TRUE(nvml.available());
  const GpuFabricInfo f = nvml.fabric_info(kGpu0);
  EXPECT_FALSE(f.queried);
  EXPECT_TRUE(f.entry_point_missing);
  EXPECT_NE(f.unavailable.find("neither nvmlDeviceGetGpuFabricInfoV nor"), std::string::npos);
  const P2PNvlinkStatus p = nvml.p2p_nvlink(kGpu0, kGpu1);
  EXPECT_FALSE(p.queried);
  EXPECT_NE(p.error.find("lacks nvmlDeviceGetP2PStatus"), std::string::npos);
}

TEST(Nvml, FabricNotSupportedAndErrorStates) {
  {
    const Scenario s("fabric=not_supported");
    const Nvml nvml(DCP_FAKE_NVML_FULL);
    const GpuFabricInfo f = nvml.fabric_info(kGpu0);
    EXPECT_TRUE(f.queried);
    EXPECT_EQ(f.state, kFabricStateNotSupported);
  }
  {
    const Scenario s("fabric=error");
    const Nvml nvml(DCP_FAKE_NVML_FULL);
    const GpuFabricInfo f = nvml.fabric_info(kGpu0);
    EXPECT_EQ(f.state, kFabricStateCompleted);
    EXPECT_EQ(f.status, 999);
    EXPECT_NE(f.status_text.find("NVML error 999"), std::string::npos) << f.status_text;
  }
}

TEST(Nvml, P2PStatusAndGpuEnumeration) {
  {
    const Scenario s("p2p=not_supported;gpus=3");
    const Nvml nvml(DCP_FAKE_NVML_FULL);
    const P2PNvlinkStatus p = nvml.p2p_nvlink(kGpu0, kGpu1);
    ASSERT_TRUE(p.queried) << p.error;
    EXPECT_EQ(p.status, 5);
    EXPECT_EQ(p.text, "NOT_SUPPORTED");
    EXPECT_EQ(nvml.gpu_count(), 3u);
    const NvmlGpu g = nvml.gpu_by_index(2);
    ASSERT_TRUE(g.ok) << g.error;
    EXPECT_EQ(g.uuid, "GPU-00000002-0000-0000-0000-000000000000");
    EXPECT_EQ(g.bus_id, "00000000:12:00.0");
    EXPECT_FALSE(nvml.gpu_by_index(3).ok);
  }
  const Nvml nvml(DCP_FAKE_NVML_FULL);
  EXPECT_EQ(nvml.p2p_nvlink(kGpu0, kGpu1).text, "OK");
}

TEST(NvmlPure, HealthMaskFields) {
  // Every 2-bit field FALSE (2) and configuration NONE (1) is healthy; TRUE (1) sets a field.
  EXPECT_TRUE(decode_fabric_health(0x1aa).healthy());
  EXPECT_TRUE(decode_fabric_health(0).healthy());  // NOT_SUPPORTED everywhere
  EXPECT_TRUE(decode_fabric_health(0x1 << 0).degraded_bandwidth);
  EXPECT_TRUE(decode_fabric_health(0x1 << 2).route_recovery);
  EXPECT_TRUE(decode_fabric_health(0x1 << 4).route_unhealthy);
  EXPECT_TRUE(decode_fabric_health(0x1 << 6).access_timeout_recovery);
  EXPECT_EQ(decode_fabric_health(0x5 << 8).incorrect_configuration, 5);
  EXPECT_FALSE(decode_fabric_health(0x5 << 8).healthy());
  EXPECT_TRUE(decode_fabric_health(0x1 << 8).healthy());  // NONE
  EXPECT_EQ(incorrect_configuration_name(5), "insufficient NVLinks");
  EXPECT_EQ(fabric_state_name(kFabricStateNotStarted), "NOT_STARTED");
  EXPECT_EQ(fabric_state_name(9), "state 9");
}

TEST(NvmlPure, CanonicalBusId) {
  EXPECT_EQ(canonical_bus_id("0000:18:00.0"), "00000000:18:00.0");
  EXPECT_EQ(canonical_bus_id("00000000:1A:00.0"), "00000000:1a:00.0");
  EXPECT_EQ(canonical_bus_id("1:2:3.4"), "00000001:02:03.4");
  EXPECT_EQ(canonical_bus_id("pci0000:00"), "");
  EXPECT_EQ(canonical_bus_id("0000:18:00"), "");
  EXPECT_EQ(canonical_bus_id(""), "");
  EXPECT_EQ(canonical_bus_id("0000:118:00.0"), "");
}

}  // namespace
}  // namespace dcp::fabric
