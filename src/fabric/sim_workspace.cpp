// Sim workspace: every cp rank's segment inside one cudaMalloc on the current device.
#include <cuda_runtime_api.h>

#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/error.hpp"
#include "fabric/workspace.hpp"

namespace dcp::fabric {

namespace {

/// Segment starts are 256-byte aligned (cudaMalloc's own alignment), whatever the segment size.
constexpr std::size_t kSegmentAlign = 256;

class SimWorkspace final : public Workspace {
 public:
  SimWorkspace(int cp_size, std::size_t segment_bytes)
      : cp_size_(cp_size),
        segment_bytes_(segment_bytes),
        stride_((segment_bytes + kSegmentAlign - 1) / kSegmentAlign * kSegmentAlign),
        memory_(stride_ * static_cast<std::size_t>(cp_size)) {
    DCP_CUDA_CHECK(cudaGetDevice(&device_));
    reset();
  }

  [[nodiscard]] WorkspaceKind kind() const override { return WorkspaceKind::kSim; }
  [[nodiscard]] int cp_size() const override { return cp_size_; }
  [[nodiscard]] std::size_t segment_bytes() const override { return segment_bytes_; }
  [[nodiscard]] void* segment(int r) const override {
    DCP_CHECK(r >= 0 && r < cp_size_,
              fmt::format("sim workspace: rank {} out of [0, {})", r, cp_size_));
    return static_cast<char*>(memory_.get()) + stride_ * static_cast<std::size_t>(r);
  }
  void reset() override {
    DCP_CUDA_CHECK(cudaMemset(memory_.get(), 0, memory_.bytes()));
    DCP_CUDA_CHECK(cudaDeviceSynchronize());
  }
  [[nodiscard]] std::string describe() const override {
    return fmt::format("sim: {} segments of {} bytes (stride {}) in one cudaMalloc on device {}",
                       cp_size_, segment_bytes_, stride_, device_);
  }

 private:
  int cp_size_;
  std::size_t segment_bytes_;
  std::size_t stride_;
  DeviceMemory memory_;
  int device_ = 0;
};

}  // namespace

std::unique_ptr<Workspace> make_sim_workspace(int cp_size, std::size_t segment_bytes) {
  if (cp_size < 1) {
    throw ConfigError(fmt::format("sim workspace: cp_size {} must be >= 1", cp_size));
  }
  if (segment_bytes == 0) throw ConfigError("sim workspace: segment size must be > 0 bytes");
  return std::make_unique<SimWorkspace>(cp_size, segment_bytes);
}

}  // namespace dcp::fabric
