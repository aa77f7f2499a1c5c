// Messages a user sees when a fabric or ipc workspace cannot be built, the IMEX channel probe
// behind them, and the agreement report that names the failed ranks.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fabric/agree.hpp"
#include "fabric/driver_api.hpp"
#include "fabric/explain.hpp"

namespace dcp::fabric {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

/// A scratch directory removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "dcp-imex-test-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// A /proc/devices look-alike in `scratch`.
std::string write_proc_devices(const ScratchDir& scratch, const std::string& text) {
  const fs::path p = scratch.path() / "devices";
  std::ofstream(p) << text;
  return p.string();
}

constexpr const char* kProcDevicesWithImex =
    "Character devices:\n  1 mem\n195 nvidia\n241 nvidia-caps\n242 nvidia-caps-imex-channels\n"
    "\nBlock devices:\n  8 sd\n";

TEST(FabricImex, DeviceMajorFromProcDevices) {
  EXPECT_EQ(device_major_in(kProcDevicesWithImex, "nvidia-caps-imex-channels"), 242);
  EXPECT_EQ(device_major_in(kProcDevicesWithImex, "nvidia-caps"), 241);
  EXPECT_EQ(device_major_in(kProcDevicesWithImex, "mem"), 1);
  EXPECT_EQ(device_major_in(kProcDevicesWithImex, "nvidia-caps-imex"), -1);
  EXPECT_EQ(device_major_in("Character devices:\n195 nvidia\n", "nvidia-caps-imex-channels"), -1);
  EXPECT_EQ(device_major_in("", "x"), -1);
  EXPECT_EQ(device_major_in("abc nvidia-caps-imex-channels\n", "nvidia-caps-imex-channels"), -1);
}

TEST(FabricImex, MissingDirectoryButRegisteredDevice) {
  // What the project's H100/H200 machines show: the driver registered the device (major 242),
  // but nobody created /dev/nvidia-caps-imex-channels.
  ScratchDir scratch;
  const std::string dir = (scratch.path() / "nvidia-caps-imex-channels").string();
  const ImexStatus s = probe_imex(dir, write_proc_devices(scratch, kProcDevicesWithImex));
  EXPECT_FALSE(s.dir_exists);
  EXPECT_FALSE(s.channel0_exists);
  EXPECT_EQ(s.dir, dir);
  EXPECT_EQ(s.device_major, 242);
  const std::string m = s.summary();
  EXPECT_EQ(m.rfind(dir + " does not exist (so no channel0), though the driver registered the "
                          "nvidia-caps-imex-channels device (major 242 in /proc/devices)",
                    0),
            0U)
      << m;
  EXPECT_TRUE(contains(m, "mknod " + dir + "/channel0 c 242 0")) << m;
}

TEST(FabricImex, MissingDirectoryAndNoDevice) {
  ScratchDir scratch;
  const std::string dir = (scratch.path() / "nvidia-caps-imex-channels").string();
  const ImexStatus s = probe_imex(dir, write_proc_devices(scratch, "Character devices:\n"));
  EXPECT_EQ(s.device_major, -1);
  EXPECT_EQ(s.summary(), dir +
                             " does not exist (so no channel0), and /proc/devices lists no "
                             "nvidia-caps-imex-channels device (driver without IMEX support)");
  // An unreadable /proc/devices is the same as no entry.
  EXPECT_EQ(probe_imex(dir, (scratch.path() / "absent").string()).device_major, -1);
}

TEST(FabricImex, DirectoryWithoutChannel0) {
  ScratchDir scratch;
  const fs::path dir = scratch.path() / "nvidia-caps-imex-channels";
  fs::create_directory(dir);
  std::ofstream(dir / "channel7").put('x');
  const ImexStatus s = probe_imex(dir.string(), write_proc_devices(scratch, kProcDevicesWithImex));
  EXPECT_TRUE(s.dir_exists);
  EXPECT_FALSE(s.channel0_exists);
  EXPECT_EQ(s.channels, std::vector<std::string>{"channel7"});
  EXPECT_TRUE(contains(s.summary(), "exists but has no channel0 (channels found: channel7)"))
      << s.summary();
}

TEST(FabricImex, Channel0Accessible) {
  ScratchDir scratch;
  const fs::path dir = scratch.path() / "nvidia-caps-imex-channels";
  fs::create_directory(dir);
  std::ofstream(dir / "channel0").put('x');
  const ImexStatus s = probe_imex(dir.string());
  EXPECT_TRUE(s.channel0_exists);
  EXPECT_TRUE(s.channel0_accessible);
  EXPECT_TRUE(contains(s.summary(), "channel0 exists and is accessible")) << s.summary();
}

TEST(FabricImex, Channel0NotAccessible) {
  if (geteuid() == 0) GTEST_SKIP() << "root can open any file";
  ScratchDir scratch;
  const fs::path dir = scratch.path() / "nvidia-caps-imex-channels";
  fs::create_directory(dir);
  std::ofstream(dir / "channel0").put('x');
  ASSERT_EQ(chmod((dir / "channel0").c_str(), 0), 0);
  const ImexStatus s = probe_imex(dir.string());
  EXPECT_TRUE(s.channel0_exists);
  EXPECT_FALSE(s.channel0_accessible);
  EXPECT_TRUE(contains(s.summary(), "cannot open it")) << s.summary();
}

FabricFailure not_permitted_on_one_host() {
  FabricFailure f;
  f.step = FabricStep::kCreate;
  f.failed_ranks = "all 2 ranks";
  f.cu_result = 800;
  f.cu_name = "CUDA_ERROR_NOT_PERMITTED";
  f.cu_text = "operation not permitted";
  f.imex.dir = std::string(kImexChannelDir);
  f.single_host = true;
  f.host = "gpu-host-1";
  f.world_size = 2;
  return f;
}

TEST(FabricExplain, NotPermittedIsAMissingImexChannel) {
  const std::string m = explain_fabric_failure(not_permitted_on_one_host());
  EXPECT_TRUE(contains(m,
                       "workspace fabric: cuMemCreate with CU_MEM_HANDLE_TYPE_FABRIC failed "
                       "on rank(s) all 2 ranks: CUDA_ERROR_NOT_PERMITTED (operation not "
                       "permitted)"))
      << m;
  EXPECT_TRUE(contains(m, "(operation not permitted). Fabric handles need an IMEX channel")) << m;
  EXPECT_TRUE(contains(m,
                       "checked /dev/nvidia-caps-imex-channels does not exist (so no "
                       "channel0)"))
      << m;
  EXPECT_TRUE(contains(m, "All 2 rank(s) share host gpu-host-1: use --workspace ipc")) << m;
  EXPECT_FALSE(contains(m, "This rank's error")) << m;
}

TEST(FabricExplain, ImportNotPermittedAcrossHosts) {
  FabricFailure f = not_permitted_on_one_host();
  f.step = FabricStep::kImport;
  f.failed_ranks = "1";
  f.single_host = false;
  f.local_error = "CUDA driver error CUDA_ERROR_NOT_PERMITTED in cuMemImport...";
  const std::string m = explain_fabric_failure(f);
  EXPECT_TRUE(contains(m,
                       "cuMemImportFromShareableHandle(CU_MEM_HANDLE_TYPE_FABRIC) of a peer's "
                       "handle failed on rank(s) 1"))
      << m;
  EXPECT_TRUE(contains(m, "IMEX channel")) << m;
  EXPECT_TRUE(contains(m, "span several hosts")) << m;
  EXPECT_FALSE(contains(m, "share host")) << m;
  EXPECT_TRUE(contains(m, "This rank's error: CUDA driver error CUDA_ERROR_NOT_PERMITTED")) << m;
}

TEST(FabricExplain, AttributeUnsupported) {
  FabricFailure f = not_permitted_on_one_host();
  f.step = FabricStep::kAttribute;
  f.cu_result = 0;
  f.cu_name.clear();
  f.cu_text.clear();
  const std::string m = explain_fabric_failure(f);
  EXPECT_TRUE(contains(m, "fabric-handle device attribute failed on rank(s) all 2 ranks")) << m;
  EXPECT_TRUE(contains(m, "CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED is 0")) << m;
  EXPECT_FALSE(contains(m, "IMEX channel that")) << m;
  EXPECT_TRUE(contains(m, "--workspace ipc")) << m;
}

TEST(FabricExplain, NotSupportedAndOtherCodesStillNameThePathChecked) {
  FabricFailure f = not_permitted_on_one_host();
  f.cu_result = 801;
  f.cu_name = "CUDA_ERROR_NOT_SUPPORTED";
  f.cu_text = "operation not supported";
  std::string m = explain_fabric_failure(f);
  EXPECT_TRUE(contains(m, "does not support fabric handles")) << m;
  EXPECT_TRUE(contains(m, "/dev/nvidia-caps-imex-channels")) << m;
  f.cu_result = 2;
  f.cu_name = "CUDA_ERROR_OUT_OF_MEMORY";
  f.cu_text = "out of memory";
  m = explain_fabric_failure(f);
  EXPECT_TRUE(contains(m, "CUDA_ERROR_OUT_OF_MEMORY (out of memory)")) << m;
  EXPECT_TRUE(contains(m, "Checked /dev/nvidia-caps-imex-channels")) << m;
}

TEST(FabricExplain, AutoFailureExplainsBoth) {
  const std::vector<std::string> hosts{"a", "a", "b"};
  const std::string m = explain_auto_failure("workspace fabric: cuMemCreate ... failed.", hosts);
  EXPECT_TRUE(contains(m, "workspace auto: no usable workspace")) << m;
  EXPECT_TRUE(contains(m, "fabric: workspace fabric: cuMemCreate ... failed.")) << m;
  EXPECT_TRUE(contains(m,
                       "ipc: needs every rank on one host, but the ranks run on a (ranks 0, "
                       "1), b (rank 2)"))
      << m;
}

TEST(FabricExplain, IpcNeedsOneHost) {
  const std::vector<std::string> hosts{"n1", "n2"};
  const std::string m = explain_ipc_multi_host(hosts);
  EXPECT_TRUE(contains(m, "workspace ipc:")) << m;
  EXPECT_TRUE(contains(m, "n1 (rank 0), n2 (rank 1)")) << m;
  EXPECT_TRUE(contains(m, "--workspace fabric")) << m;
}

TEST(FabricAgree, StepReportNamesFailedRanks) {
  const StepReport ok = make_step_report({0, 0, 0}, {0, 0, 0});
  EXPECT_TRUE(ok.ok());
  const StepReport some = make_step_report({0, 1, 0, 1}, {0, 800, 0, 800});
  EXPECT_FALSE(some.ok());
  EXPECT_EQ(some.failed_ranks, (std::vector<int>{1, 3}));
  EXPECT_EQ(some.failed_list(4), "1, 3");
  EXPECT_EQ(some.common_cu_result(), 800);
  const StepReport all = make_step_report({1, 1}, {800, 2});
  EXPECT_EQ(all.failed_list(2), "all 2 ranks");
  EXPECT_EQ(all.common_cu_result(), 0);  // different codes: no common one
  const StepReport not_driver = make_step_report({1, 1}, {800, 0});
  EXPECT_EQ(not_driver.common_cu_result(), 0);
  const StepReport single = make_step_report({1}, {800});
  EXPECT_EQ(single.failed_list(1), "0");
}

TEST(FabricAgree, AttemptCapturesErrorsAndDriverCodes) {
  const StepOutcome fine = attempt([] {});
  EXPECT_TRUE(fine.ok());
  const StepOutcome env = attempt([] { throw EnvironmentError("no"); });
  EXPECT_FALSE(env.ok());
  EXPECT_EQ(env.cu_result, 0);
  EXPECT_THROW(std::rethrow_exception(env.error), EnvironmentError);
  const StepOutcome drv = attempt(
      [] { throw DriverError(CUDA_ERROR_NOT_PERMITTED, "cuMemCreate(...)", "not permitted"); });
  EXPECT_EQ(drv.cu_result, 800);
  EXPECT_THROW(std::rethrow_exception(drv.error), CudaError);
  EXPECT_THROW((void)attempt([] { throw std::logic_error("not a dcp error"); }), std::logic_error);
}

TEST(FabricDriverApi, ErrorNamesWithoutALoadedDriver) {
  // Nothing here loads the driver table: names fall back to the number instead of crashing.
  EXPECT_FALSE(cu_error_name(CUDA_ERROR_NOT_PERMITTED).empty());
  try {
    throw_driver_error(CUDA_ERROR_NOT_PERMITTED, "cu.cuMemCreate(&h, n, &prop, 0)", "x.cpp", 7);
    ADD_FAILURE() << "throw_driver_error returned";
  } catch (const DriverError& e) {
    EXPECT_EQ(e.result(), CUDA_ERROR_NOT_PERMITTED);
    EXPECT_EQ(e.call(), "cu.cuMemCreate(&h, n, &prop, 0)");
    const std::string m = e.what();
    EXPECT_TRUE(contains(m, "CUDA driver error ")) << m;
    EXPECT_TRUE(contains(m, "in cu.cuMemCreate(&h, n, &prop, 0) at x.cpp:7")) << m;
  }
}

}  // namespace
}  // namespace dcp::fabric
