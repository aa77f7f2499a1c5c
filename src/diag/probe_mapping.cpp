#include "diag/probe_mapping.hpp"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "diag/context.hpp"
#include "diag/ll128_line.hpp"
#include "fabric/workspace.hpp"

namespace dcp::diag {

namespace {

constexpr std::size_t kPage = 4096;

std::size_t round_up(std::size_t v, std::size_t to) {
  return (v + to - 1) / to * to;
}

}  // namespace

std::size_t SegmentPlan::flag_offset(int sender) const {
  return static_cast<std::size_t>(sender) * kFlagStride;
}
std::size_t SegmentPlan::own_signature_offset() const {
  return round_up(static_cast<std::size_t>(world) * kFlagStride, kPage);
}
std::size_t SegmentPlan::slot_offset(int writer) const {
  return own_signature_offset() + kSignatureBytes +
         static_cast<std::size_t>(writer) * kSignatureBytes;
}
std::size_t SegmentPlan::store_load_offset(int writer) const {
  return round_up(slot_offset(world), kPage) + static_cast<std::size_t>(writer) * kFlagStride;
}
std::size_t SegmentPlan::ll128_credit_offset() const {
  return store_load_offset(world);
}
std::size_t SegmentPlan::ll128_ring_offset() const {
  return round_up(ll128_credit_offset() + kFlagStride, kPage);
}
std::size_t SegmentPlan::bytes() const {
  return ll128_ring_offset() + static_cast<std::size_t>(kLl128RingLines) * ll128probe::kLineBytes;
}

ProbeMapping::ProbeMapping(const World& world) : world_(world), plan_{world.size()} {}

ProbeMapping::~ProbeMapping() = default;

std::string ProbeMapping::make_ipc() {
  tried_ = true;
  const std::string err = capture_error(
      [&] { ws_ = fabric::make_shared_workspace(WorkspaceKind::kIpc, world_, plan_.bytes()); });
  if (!err.empty()) error_ = "the ipc workspace failed (see ipc_workspace)";
  return err;
}

const fabric::Workspace* ProbeMapping::get(bool single_host) {
  if (!tried_) {
    tried_ = true;
    const WorkspaceKind kind = single_host ? WorkspaceKind::kIpc : WorkspaceKind::kFabric;
    const std::string err =
        capture_error([&] { ws_ = fabric::make_shared_workspace(kind, world_, plan_.bytes()); });
    if (!err.empty()) error_ = fmt::format("no {} workspace: {}", to_string(kind), err);
  }
  return ws_.get();
}

std::string ProbeMapping::why_not() const {
  return fmt::format("no cross-GPU mapping to test through ({})", error_);
}

void* ProbeMapping::at(int r, std::size_t offset) const {
  DCP_CHECK(ws_ != nullptr, "diag: the probe mapping was not built");
  return static_cast<std::byte*>(ws_->segment(r)) + offset;
}

void ProbeMapping::release() {
  if (!ws_) return;
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
  world_.barrier("diag: workspace release");  // no peer still reads or writes our segment
  ws_.reset();
}

}  // namespace dcp::diag
