// Cross-process workspaces: ipc (cuMem POSIX fds passed over Unix sockets, one host) and fabric
// (cuMem fabric handles exchanged over MPI, MNNVL), and auto, which picks one of them.
//
// Every rank runs the same sequence of steps; after each step that can fail locally, the
// outcome is gathered over all ranks (an AND-reduce that also names the failed ranks), so one
// rank's failure fails every rank with a message instead of leaving the others waiting in the
// next collective.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "fabric/agree.hpp"
#include "fabric/cumem.hpp"
#include "fabric/driver_api.hpp"
#include "fabric/explain.hpp"
#include "fabric/fd_passing.hpp"
#include "fabric/layout.hpp"
#include "fabric/workspace.hpp"

namespace dcp::fabric {

namespace {

/// The memory behind a workspace, in destruction order: mappings, then allocations, then the
/// range (members are destroyed in reverse order of declaration).
struct MappedSegments {
  VaRange range;
  std::vector<Allocation> allocations;  ///< by rank; [own rank] created here, others imported
  std::vector<Mapping> mappings;        ///< by rank
};

class SharedWorkspace final : public Workspace {
 public:
  SharedWorkspace(WorkspaceKind kind, const World& world, const SegmentLayout& layout, int device,
                  MappedSegments memory, std::string how)
      : kind_(kind),
        world_(world),
        layout_(layout),
        device_(device),
        memory_(std::move(memory)),
        how_(std::move(how)) {}

  [[nodiscard]] WorkspaceKind kind() const override { return kind_; }
  [[nodiscard]] int cp_size() const override { return layout_.cp; }
  [[nodiscard]] std::size_t segment_bytes() const override { return layout_.segment_bytes; }
  [[nodiscard]] void* segment(int r) const override {
    DCP_CHECK(r >= 0 && r < layout_.cp,
              fmt::format("workspace {}: rank {} out of [0, {})", to_string(kind_), r, layout_.cp));
    return reinterpret_cast<void*>(memory_.range.base() + layout_.offset(r));
  }

  void reset() override {
    // The whole allocation, padding included, so that nothing stale survives a re-init.
    DCP_CUDA_CHECK(cudaMemset(segment(world_.rank()), 0, layout_.mapped_bytes));
    DCP_CUDA_CHECK(cudaDeviceSynchronize());
    world_.barrier(fmt::format("workspace {} reset", to_string(kind_)));
  }

  [[nodiscard]] std::string describe() const override {
    const std::string seg = layout_.mapped_bytes == layout_.segment_bytes
                                ? format_bytes(layout_.segment_bytes)
                                : fmt::format("{} (mapped {})", format_bytes(layout_.segment_bytes),
                                              format_bytes(layout_.mapped_bytes));
    return fmt::format("{}: {} segments of {} at stride {}, {}, device {}", to_string(kind_),
                       layout_.cp, seg, format_bytes(layout_.stride), how_, device_);
  }

 private:
  WorkspaceKind kind_;
  const World& world_;
  SegmentLayout layout_;
  int device_;
  MappedSegments memory_;
  std::string how_;
};

/// One build of a cross-process workspace; holds what the steps share.
class Builder {
 public:
  Builder(WorkspaceKind kind, const World& world, std::size_t segment_bytes)
      : kind_(kind),
        type_(kind == WorkspaceKind::kFabric ? HandleType::kFabric : HandleType::kPosixFd),
        world_(world),
        segment_bytes_(segment_bytes),
        context_(fmt::format("workspace {}", to_string(kind))) {}

  std::unique_ptr<Workspace> build() {
    check_hosts();
    agree_on_size();
    open_device();
    plan();
    create();
    std::string how = share();
    map();
    auto ws = std::make_unique<SharedWorkspace>(kind_, world_, layout_, device_, std::move(memory_),
                                                std::move(how));
    ws->reset();  // zero own segment, synchronise, barrier: nobody writes before init
    return ws;
  }

 private:
  /// Gathers `outcome` of `step`; on any failure throws on every rank. Fabric failures are
  /// explained (IMEX etc.); other failures carry the failed rank's error text.
  void settle(const StepOutcome& outcome, std::string_view step,
              std::optional<FabricStep> fabric_step = std::nullopt) const {
    const StepReport report = gather_outcomes(world_, outcome, step);
    if (report.ok()) return;
    std::string local;
    if (!outcome.ok()) {
      try {
        std::rethrow_exception(outcome.error);
      } catch (const TimeoutError&) {
        throw;  // a timeout stays a timeout
      } catch (const Error& e) {
        local = e.what();
      }
    }
    const auto code = static_cast<CUresult>(report.common_cu_result());
    if (fabric_step) {
      FabricFailure f;
      f.step = *fabric_step;
      f.failed_ranks = report.failed_list(world_.size());
      f.cu_result = static_cast<int>(code);
      if (code != CUDA_SUCCESS) {
        f.cu_name = cu_error_name(code);
        f.cu_text = cu_error_string(code);
      }
      f.local_error = local;
      f.imex = probe_imex();
      f.single_host = world_.single_host();
      f.host = world_.host();
      f.world_size = world_.size();
      throw EnvironmentError(explain_fabric_failure(f));
    }
    std::string msg = fmt::format("{}: {} failed on rank(s) {}", context_, step,
                                  report.failed_list(world_.size()));
    if (code != CUDA_SUCCESS) {
      msg += fmt::format(" with {} ({})", cu_error_name(code), cu_error_string(code));
    }
    msg += local.empty() ? " (see that rank's message)" : ": " + local;
    throw EnvironmentError(msg);
  }

  void check_hosts() const {
    if (kind_ == WorkspaceKind::kIpc && !world_.single_host()) {
      throw EnvironmentError(explain_ipc_multi_host(world_.hosts()));
    }
  }

  /// Every rank must ask for the same segment size (the layout inside is the caller's).
  void agree_on_size() const {
    const auto sizes =
        world_.allgather(static_cast<std::uint64_t>(segment_bytes_), "workspace segment sizes");
    if (const std::string m = mismatch_message(context_, "segment size (bytes)", sizes);
        !m.empty()) {
      throw EnvironmentError(m);
    }
  }

  void open_device() {
    std::size_t granularity = 0;
    bool attribute = true;
    settle(attempt([&] {
             DCP_CUDA_CHECK(cudaGetDevice(&device_));
             cu_device_ = current_cu_device();
             const DeviceSharingCaps caps = query_sharing_caps(device_);
             if (!caps.vmm) {
               throw EnvironmentError(fmt::format(
                   "device {} does not support CUDA virtual memory management", device_));
             }
             attribute = type_ == HandleType::kFabric ? caps.fabric : caps.posix_fd;
           }),
           "opening the device and reading its cuMem attributes");
    // The attribute is a property of the GPU and driver; without it there is no point trying.
    settle(attempt([&] {
             if (attribute) return;
             throw EnvironmentError(
                 type_ == HandleType::kFabric
                     ? std::string("CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED is 0")
                     : fmt::format("device {} cannot export cuMem allocations as POSIX fds "
                                   "(CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_"
                                   "SUPPORTED is 0)",
                                   device_));
           }),
           type_ == HandleType::kFabric ? "the fabric-handle attribute"
                                        : "the POSIX-fd handle attribute",
           fabric_step(FabricStep::kAttribute));
    settle(attempt([&] { granularity = allocation_granularity(cu_device_, type_); }),
           fmt::format("cuMemGetAllocationGranularity ({} handle) on device {}", to_string(type_),
                       device_),
           fabric_step(FabricStep::kGranularity));
    granularity_ = granularity;
  }

  void plan() {
    const auto all = world_.allgather(static_cast<std::uint64_t>(granularity_),
                                      "workspace allocation granularities");
    std::vector<std::size_t> granularities(all.begin(), all.end());
    layout_ = plan_layout(world_.size(), segment_bytes_, granularities);
    // The layout follows from gathered values, so it cannot differ; checked anyway because a
    // different stride would make every peer address wrong without any error (spec §2.7).
    const auto strides =
        world_.allgather(static_cast<std::uint64_t>(layout_.stride), "workspace strides");
    if (const std::string m = mismatch_message(context_, "stride (bytes)", strides); !m.empty()) {
      throw EnvironmentError(m);
    }
    memory_.allocations.resize(static_cast<std::size_t>(layout_.cp));
    memory_.mappings.resize(static_cast<std::size_t>(layout_.cp));
  }

  void create() {
    const auto me = static_cast<std::size_t>(world_.rank());
    settle(attempt([&] {
             memory_.allocations[me] = Allocation::create(layout_.mapped_bytes, cu_device_, type_);
           }),
           fmt::format("cuMemCreate of {} ({} handle) on device {}",
                       format_bytes(layout_.mapped_bytes), to_string(type_), device_),
           fabric_step(FabricStep::kCreate));
  }

  /// Exports the own allocation, hands it to every peer and imports theirs. Returns how.
  std::string share() {
    const auto me = static_cast<std::size_t>(world_.rank());
    const Allocation& own = memory_.allocations[me];
    if (type_ == HandleType::kFabric) {
      CUmemFabricHandle handle{};
      settle(attempt([&] { handle = own.export_fabric(); }), "exporting the fabric handle",
             FabricStep::kExport);
      const auto handles = world_.allgather(handle, "workspace fabric handles");
      settle(attempt([&] {
               for (int r = 0; r < layout_.cp; ++r) {
                 if (r == world_.rank()) continue;
                 memory_.allocations[static_cast<std::size_t>(r)] = Allocation::import_fabric(
                     handles[static_cast<std::size_t>(r)], layout_.mapped_bytes);
               }
             }),
             "importing the peers' fabric handles", FabricStep::kImport);
      return "fabric handles exchanged with MPI allgather";
    }

    UniqueFd fd;
    settle(attempt([&] { fd = own.export_posix_fd(); }), "exporting the POSIX fd");
    SharedFds shared = share_fd(world_, fd.get());
    fd.reset();
    settle(attempt([&] {
             for (int r = 0; r < layout_.cp; ++r) {
               if (r == world_.rank()) continue;
               memory_.allocations[static_cast<std::size_t>(r)] = Allocation::import_posix_fd(
                   shared.by_rank[static_cast<std::size_t>(r)].get(), layout_.mapped_bytes);
             }
           }),
           "importing the peers' POSIX fds");
    shared.by_rank.clear();  // the imports hold the memory; the descriptors are done
    return fmt::format("POSIX fd over {}", shared.socket_dir);
  }

  /// One reserved range, rank r at base + r * stride, read-write for this device.
  void map() {
    settle(attempt([&] {
             memory_.range = VaRange(layout_.range_bytes(), layout_.granularity);
             for (int r = 0; r < layout_.cp; ++r) {
               const auto i = static_cast<std::size_t>(r);
               memory_.mappings[i] =
                   Mapping(memory_.range.base() + layout_.offset(r), memory_.allocations[i]);
               memory_.mappings[i].allow_access(cu_device_);
             }
           }),
           fmt::format("mapping {} segments of {} ({} in all) for device {} (if the driver "
                       "refuses, keep the workspace small: a few MiB per rank)",
                       layout_.cp, format_bytes(layout_.mapped_bytes),
                       format_bytes(layout_.range_bytes()), device_),
           fabric_step(FabricStep::kMap));
  }

  [[nodiscard]] std::optional<FabricStep> fabric_step(FabricStep s) const {
    if (type_ == HandleType::kFabric) return s;
    return std::nullopt;
  }

  WorkspaceKind kind_;
  HandleType type_;
  const World& world_;
  std::size_t segment_bytes_;
  std::string context_;
  int device_ = 0;
  CUdevice cu_device_ = 0;
  std::size_t granularity_ = 0;
  SegmentLayout layout_;
  MappedSegments memory_;
};

}  // namespace

WorkspaceKind resolve_workspace_kind(WorkspaceKind requested, const World& world) {
  if (requested != WorkspaceKind::kAuto) return requested;
  std::string fabric_reason;
  try {
    // The probe is a whole fabric workspace of one granule: attribute, create, export, import
    // on the peers, map. The attribute alone proves nothing (it is 1 on machines without IMEX).
    auto probe = Builder(WorkspaceKind::kFabric, world, 1).build();
    probe.reset();
    return WorkspaceKind::kFabric;
  } catch (const TimeoutError&) {
    throw;
  } catch (const EnvironmentError& e) {
    fabric_reason = e.what();
  }
  if (world.single_host()) return WorkspaceKind::kIpc;
  throw EnvironmentError(explain_auto_failure(fabric_reason, world.hosts()));
}

std::unique_ptr<Workspace> make_shared_workspace(WorkspaceKind kind, const World& world,
                                                 std::size_t segment_bytes) {
  if (kind == WorkspaceKind::kSim) {
    throw ConfigError("make_shared_workspace: the sim workspace comes from make_sim_workspace");
  }
  if (segment_bytes == 0) {
    throw ConfigError(fmt::format("workspace {}: segment size must be > 0 bytes", to_string(kind)));
  }
  const WorkspaceKind resolved = resolve_workspace_kind(kind, world);
  return Builder(resolved, world, segment_bytes).build();
}

}  // namespace dcp::fabric
