#include "diag/checks.hpp"

#include <cuda.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "bench/runner.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "core/resolve.hpp"
#include "core/stats.hpp"
#include "diag/nvml.hpp"
#include "diag/probes.hpp"
#include "diag/verdict.hpp"
#include "fabric/cumem.hpp"
#include "fabric/driver_api.hpp"
#include "fabric/explain.hpp"
#include "fabric/layout.hpp"
#include "fabric/workspace.hpp"

namespace dcp::diag {

namespace {

/// Extra time a host wait gives the GPU beyond the device-side deadline.
constexpr double kHostMarginS = 5.0;
/// 32-bit words of one visibility signature (16 KiB).
constexpr std::size_t kSignatureWords = 4096;
constexpr std::size_t kSignatureBytes = kSignatureWords * sizeof(std::uint32_t);

/// The diag workspace segment of every rank: one 128-byte flag line per sender (ping-pong),
/// the owner's own signature, then one signature slot per writer.
struct SegmentPlan {
  int world = 1;
  [[nodiscard]] std::size_t flag_offset(int sender) const {
    return static_cast<std::size_t>(sender) * kFlagStrideBytes;
  }
  [[nodiscard]] std::size_t own_signature_offset() const {
    const std::size_t flags = static_cast<std::size_t>(world) * kFlagStrideBytes;
    return (flags + 4095) / 4096 * 4096;
  }
  [[nodiscard]] std::size_t slot_offset(int writer) const {
    return own_signature_offset() + kSignatureBytes +
           static_cast<std::size_t>(writer) * kSignatureBytes;
  }
  [[nodiscard]] std::size_t bytes() const { return slot_offset(world); }
};

/// Runs `f`, returning its dcp::Error text ("" on success). Timeouts propagate: they mean a
/// GPU or a collective is stuck, and diag cannot go on.
template <typename F>
std::string capture(F&& f) {
  try {
    f();
    return {};
  } catch (const TimeoutError&) {
    throw;
  } catch (const Error& e) {
    return e.what();
  }
}

/// Every rank's facts, in rank order.
template <typename T>
std::vector<T> gather(const World& world, const T& mine, std::string_view what) {
  std::vector<T> out;
  for (const auto& text : world.allgather_strings(encode(mine), what)) {
    T v{};
    decode(text, v);
    out.push_back(std::move(v));
  }
  return out;
}

/// Every rank's list of facts, concatenated in rank order.
template <typename T>
std::vector<T> gather_flat(const World& world, const std::vector<T>& mine, std::string_view what) {
  std::vector<T> out;
  for (auto& part : gather(world, mine, what))
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

std::string format_mib(std::size_t bytes) {
  return fmt::format("{} MiB", bytes >> 20);
}

/// A peer's cudaMalloc buffer opened in this process (legacy CUDA IPC), closed on destruction.
class OpenedIpcBuffer {
 public:
  OpenedIpcBuffer() = default;
  explicit OpenedIpcBuffer(const cudaIpcMemHandle_t& h) {
    DCP_CUDA_CHECK(cudaIpcOpenMemHandle(&ptr_, h, cudaIpcMemLazyEnablePeerAccess));
  }
  OpenedIpcBuffer(OpenedIpcBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)) {}
  OpenedIpcBuffer& operator=(OpenedIpcBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
    }
    return *this;
  }
  OpenedIpcBuffer(const OpenedIpcBuffer&) = delete;
  OpenedIpcBuffer& operator=(const OpenedIpcBuffer&) = delete;
  ~OpenedIpcBuffer() { reset(); }
  void reset() noexcept {
    if (ptr_ != nullptr) DCP_CUDA_CHECK_NOEXCEPT(cudaIpcCloseMemHandle(ptr_));
    ptr_ = nullptr;
  }
  [[nodiscard]] void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
};

class Runner {
 public:
  Runner(const DiagPlan& plan, const World& world, int device, const DiagEnvironment& env)
      : plan_(plan),
        world_(world),
        device_(device),
        env_(env),
        sizes_(probe_sizes(plan.quick)),
        segment_{world.size()} {}

  DiagReport run() {
    ranks_ = gather(world_, this_rank(), "diag rank facts");
    DiagReport report;
    report.options.quick = plan_.quick;
    report.options.timeout_s = plan_.timeout_s;
    report.options.groups = plan_.groups;
    for (const auto& g : plan_.groups) {
      world_.barrier(fmt::format("diag: start of {}", g));
      if (g == "devices") append(report.checks, device_checks(ranks_));
      if (g == "mapping") append(report.checks, mapping_checks(ranks_));
      if (g == "peer") append(report.checks, peer_checks(ranks_, peer_facts()));
      if (g == "nvlink") append(report.checks, nvlink_checks(ranks_, nvlink_facts()));
      if (g == "cumem") append(report.checks, cumem_checks(ranks_, cumem_facts()));
      if (g == "ipc") report.checks.push_back(ipc_check(ranks_, ipc_facts()));
      if (g == "fabric") run_fabric(report.checks);
      if (g == "visibility") append(report.checks, visibility_checks(ranks_, visibility_facts()));
      if (g == "latency") run_latency(report);
      if (g == "bandwidth") run_bandwidth(report);
      if (g == "smoke") report.checks.push_back(smoke_check(smoke_facts()));
    }
    apply_fabric_fallback(report.checks, ranks_);
    report.summary = summarize(report.checks);
    release_workspace();
    world_.barrier("diag: end");
    return report;
  }

 private:
  static void append(std::vector<DiagCheck>& out, std::vector<DiagCheck> more) {
    out.insert(out.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
  }

  [[nodiscard]] int me() const { return world_.rank(); }
  [[nodiscard]] int size() const { return world_.size(); }
  [[nodiscard]] const RankFacts& rank(int r) const { return ranks_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] double host_wait_s() const { return plan_.timeout_s + kHostMarginS; }

  // ---- rank facts ------------------------------------------------------------------------------

  RankFacts this_rank() const {
    RankFacts f;
    static_cast<RankInfo&>(f) = describe_rank(world_, device_, env_.nccl_loaded);
    f.local_size = world_.local_size();
    DCP_CUDA_CHECK(cudaGetDeviceCount(&f.visible_devices));
    if (const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES")) {
      f.cvd_set = true;
      f.cvd = cvd;
    }
    for (int d = 0; d < f.visible_devices; ++d)
      f.visible_uuids.push_back(d == device_ ? f.gpu_uuid : describe_device(d).gpu_uuid);
    f.nccl_compiled = env_.nccl_compiled;
    f.nccl_warning = env_.nccl_warning;
    return f;
  }

  // ---- peer ------------------------------------------------------------------------------------

  std::vector<PeerFacts> peer_facts() const {
    std::vector<PeerFacts> mine;
    const RankFacts& a = rank(me());
    for (int p = 0; p < size() && size() > 1; ++p) {
      if (p == me()) continue;
      PeerFacts f;
      f.from = me();
      f.to = p;
      const RankFacts& b = rank(p);
      if (!pair_skip_reason(a, b, true)) {
        const auto it = std::find(a.visible_uuids.begin(), a.visible_uuids.end(), b.gpu_uuid);
        if (it != a.visible_uuids.end()) {
          f.peer_visible = true;
          f.peer_device = static_cast<int>(it - a.visible_uuids.begin());
          f.error = capture([&] {
            DCP_CUDA_CHECK(cudaDeviceCanAccessPeer(&f.can_access, device_, f.peer_device));
            DCP_CUDA_CHECK(cudaDeviceGetP2PAttribute(&f.perf_rank, cudaDevP2PAttrPerformanceRank,
                                                     device_, f.peer_device));
            DCP_CUDA_CHECK(cudaDeviceGetP2PAttribute(
                &f.native_atomics, cudaDevP2PAttrNativeAtomicSupported, device_, f.peer_device));
            DCP_CUDA_CHECK(cudaDeviceGetP2PAttribute(
                &f.access_supported, cudaDevP2PAttrAccessSupported, device_, f.peer_device));
          });
        }
      }
      mine.push_back(std::move(f));
    }
    return gather_flat(world_, mine, "diag peer facts");
  }

  // ---- nvlink, cumem ---------------------------------------------------------------------------

  std::vector<NvlinkFacts> nvlink_facts() const {
    const Nvml nvml;
    return gather(world_, nvml.nvlink(rank(me()).gpu_uuid), "diag NVLink facts");
  }

  std::vector<CumemFacts> cumem_facts() const {
    CumemFacts f;
    f.error = capture([&] {
      const fabric::DeviceSharingCaps caps = fabric::query_sharing_caps(device_);
      f.vmm = caps.vmm;
      f.posix_fd = caps.posix_fd;
      f.fabric = caps.fabric;
    });
    return gather(world_, f, "diag cuMem facts");
  }

  // ---- ipc and the shared workspace ------------------------------------------------------------

  std::vector<IpcFacts> ipc_facts() {
    IpcFacts f;
    if (single_host(ranks_)) {
      f.attempted = true;
      f.error = capture([&] {
        workspace_tried_ = true;
        workspace_ = fabric::make_shared_workspace(WorkspaceKind::kIpc, world_, segment_.bytes());
        f.ok = true;
        f.describe = workspace_->describe();
      });
      if (!f.ok) workspace_error_ = "the ipc workspace failed (see ipc_workspace)";
    }
    return gather(world_, f, "diag ipc facts");
  }

  /// The mapping the visibility and latency probes use: the ipc workspace of the ipc check, or
  /// one made here (ipc on one host, fabric across hosts). Collective on first use.
  const fabric::Workspace* workspace() {
    if (!workspace_tried_) {
      workspace_tried_ = true;
      const WorkspaceKind kind = single_host(ranks_) ? WorkspaceKind::kIpc : WorkspaceKind::kFabric;
      const std::string err = capture(
          [&] { workspace_ = fabric::make_shared_workspace(kind, world_, segment_.bytes()); });
      if (!err.empty()) {
        workspace_error_ = fmt::format("no {} workspace: {}", to_string(kind), err);
      }
    }
    return workspace_.get();
  }

  [[nodiscard]] std::string no_workspace_reason() const {
    return fmt::format("no cross-GPU mapping to test through ({})", workspace_error_);
  }

  void release_workspace() {
    if (!workspace_) return;
    DCP_CUDA_CHECK(cudaDeviceSynchronize());
    world_.barrier("diag: workspace release");  // no peer still reads or writes our segment
    workspace_.reset();
  }

  // ---- fabric ----------------------------------------------------------------------------------

  void run_fabric(std::vector<DiagCheck>& out) {
    FabricFacts f;
    CUdevice cu_device = 0;
    const std::string attr_error = capture([&] {
      f.attribute = fabric::query_sharing_caps(device_).fabric;
      cu_device = fabric::current_cu_device();
    });
    const fabric::ImexStatus imex = fabric::probe_imex();
    f.imex = imex.summary();
    fabric::Allocation allocation;
    CUmemFabricHandle handle{};
    if (!attr_error.empty()) {
      f.error = attr_error;
    } else if (f.attribute) {
      f.attempted = true;
      fabric::FabricStep step = fabric::FabricStep::kGranularity;
      f.failed_step = "cuMemGetAllocationGranularity(CU_MEM_HANDLE_TYPE_FABRIC)";
      try {
        const std::size_t bytes =
            fabric::allocation_granularity(cu_device, fabric::HandleType::kFabric);
        f.bytes = bytes;
        step = fabric::FabricStep::kCreate;
        f.failed_step = "cuMemCreate(CU_MEM_HANDLE_TYPE_FABRIC)";
        allocation = fabric::Allocation::create(bytes, cu_device, fabric::HandleType::kFabric);
        step = fabric::FabricStep::kExport;
        f.failed_step = "cuMemExportToShareableHandle(CU_MEM_HANDLE_TYPE_FABRIC)";
        handle = allocation.export_fabric();
        f.create_ok = true;
        f.failed_step.clear();
      } catch (const fabric::DriverError& e) {
        f.cu_result = static_cast<int>(e.result());
        f.cu_name = fabric::cu_error_name(e.result());
        f.cu_text = fabric::cu_error_string(e.result());
        f.error = e.what();
      } catch (const TimeoutError&) {
        throw;
      } catch (const Error& e) {
        f.error = e.what();
      }
      if (!f.create_ok) {
        fabric::FabricFailure ff;
        ff.step = step;
        ff.failed_ranks = std::to_string(me());
        ff.cu_result = f.cu_result;
        ff.cu_name = f.cu_name;
        ff.cu_text = f.cu_text;
        ff.local_error = f.error;
        ff.imex = imex;
        ff.single_host = single_host(ranks_);
        ff.host = world_.host();
        ff.world_size = size();
        f.explanation = fabric::explain_fabric_failure(ff);
      }
    }
    const auto all = gather(world_, f, "diag fabric facts");

    std::vector<FabricImportFacts> imports;
    if (size() > 1) {
      struct HandleWire {
        std::int32_t ok;
        std::uint64_t bytes;
        CUmemFabricHandle handle;
      };
      HandleWire wire{};
      wire.ok = f.create_ok ? 1 : 0;
      wire.bytes = f.bytes;
      wire.handle = handle;
      const auto wires = world_.allgather(wire, "diag fabric handles");
      std::vector<FabricImportFacts> mine;
      for (int p = 0; p < size(); ++p) {
        if (p == me()) continue;
        FabricImportFacts im;
        im.importer = me();
        im.exporter = p;
        const HandleWire& w = wires[static_cast<std::size_t>(p)];
        if (f.create_ok && w.ok != 0) {
          im.attempted = true;
          try {
            const auto bytes = static_cast<std::size_t>(w.bytes);
            fabric::Allocation imported = fabric::Allocation::import_fabric(w.handle, bytes);
            fabric::VaRange range(bytes, bytes);
            fabric::Mapping mapping(range.base(), imported);
            mapping.allow_access(cu_device);
            im.ok = true;
          } catch (const fabric::DriverError& e) {
            im.cu_result = static_cast<int>(e.result());
            im.cu_name = fabric::cu_error_name(e.result());
            im.cu_text = fabric::cu_error_string(e.result());
            im.error = e.what();
          } catch (const TimeoutError&) {
            throw;
          } catch (const Error& e) {
            im.error = e.what();
          }
        }
        mine.push_back(std::move(im));
      }
      // Gathering also keeps every exported allocation alive until all imports are done.
      imports = gather_flat(world_, mine, "diag fabric imports");
    }
    append(out, fabric_checks(ranks_, all, imports));
  }

  // ---- visibility ------------------------------------------------------------------------------

  std::vector<VisibilityFacts> visibility_facts() {
    if (size() < 2) return {};
    std::vector<VisibilityFacts> mine;
    for (int p = 0; p < size(); ++p) {
      if (p == me()) continue;
      VisibilityFacts f;
      f.writer = p;
      f.reader = me();
      f.words = kSignatureWords;
      mine.push_back(f);
    }
    const fabric::Workspace* ws = workspace();
    if (ws == nullptr) {
      for (auto& f : mine)
        f.skip_reason = no_workspace_reason();
      return gather_flat(world_, mine, "diag visibility facts");
    }
    std::uint64_t nonce =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    world_.broadcast_bytes(std::span(reinterpret_cast<std::byte*>(&nonce), sizeof(nonce)), 0,
                           "diag visibility nonce");
    const Stream stream;
    const auto at = [&](int owner, std::size_t offset) {
      return static_cast<std::byte*>(ws->segment(owner)) + offset;
    };
    // 1. Every rank writes its own signature into its own segment.
    std::string local_error = capture([&] {
      write_signature(at(me(), segment_.own_signature_offset()), kSignatureWords,
                      signature_seed(nonce, me(), me()), stream.get());
      wait_bounded(stream.get(), host_wait_s(), "writing the own signature");
    });
    world_.barrier("diag visibility: own signatures written");
    // 2. Remote reads: every peer's own signature, read through the mapping.
    for (auto& f : mine) {
      if (!local_error.empty()) break;
      f.error = capture([&] {
        const SignatureResult r =
            check_signature(at(f.writer, segment_.own_signature_offset()), kSignatureWords,
                            signature_seed(nonce, f.writer, f.writer), stream.get(), host_wait_s());
        f.read_mismatches = r.mismatches;
        f.read_first_bad = r.first_bad;
        f.read_expected = r.expected;
        f.read_actual = r.actual;
      });
    }
    // 3. Remote writes: a signature into every peer's segment, slot = this rank.
    if (local_error.empty()) {
      local_error = capture([&] {
        for (int p = 0; p < size(); ++p) {
          if (p == me()) continue;
          write_signature(at(p, segment_.slot_offset(me())), kSignatureWords,
                          signature_seed(nonce, me(), p), stream.get());
        }
        wait_bounded(stream.get(), host_wait_s(), "writing signatures into the peers' segments");
      });
    }
    world_.barrier("diag visibility: peer signatures written");
    // 4. Every peer's writes, checked in this rank's own segment.
    for (auto& f : mine) {
      if (!local_error.empty() || !f.error.empty()) continue;
      f.error = capture([&] {
        const SignatureResult r =
            check_signature(at(me(), segment_.slot_offset(f.writer)), kSignatureWords,
                            signature_seed(nonce, f.writer, me()), stream.get(), host_wait_s());
        f.write_mismatches = r.mismatches;
        f.write_first_bad = r.first_bad;
        f.write_expected = r.expected;
        f.write_actual = r.actual;
      });
    }
    mark_ran(mine, local_error);
    return gather_flat(world_, mine, "diag visibility facts");
  }

  static void mark_ran(std::vector<VisibilityFacts>& facts, const std::string& local_error) {
    for (auto& f : facts) {
      f.ran = true;
      if (!local_error.empty() && f.error.empty()) f.error = local_error;
    }
  }

  // ---- latency ---------------------------------------------------------------------------------

  std::string latency_method() const {
    return fmt::format(
        "ping-pong of two single-thread kernels through the mapped workspace (flags written "
        "into the peer's segment, polled locally), {} rounds after {} warm-up, round trip / 2; "
        "rounds timed with clock64, scaled by %globaltimer over the loop",
        sizes_.latency_rounds, sizes_.latency_warmup);
  }

  /// Self: two streams of this GPU ping-pong through two local flags.
  LatencyFacts self_latency() const {
    LatencyFacts f;
    f.from = f.to = me();
    f.error = capture([&] {
      const DeviceMemory flags(2 * kFlagStrideBytes);
      DCP_CUDA_CHECK(cudaMemset(flags.get(), 0, flags.bytes()));
      auto* a = flags.as<std::uint64_t>();
      auto* b = a + kFlagStrideBytes / sizeof(std::uint64_t);
      PingPongProbe initiator(sizes_.latency_rounds);
      PingPongProbe responder(sizes_.latency_rounds);
      const Stream s1;
      const Stream s2;
      responder.launch(PingRole::kResponder, a, b, 1, sizes_.latency_warmup, sizes_.latency_rounds,
                       plan_.timeout_s, s2.get());
      initiator.launch(PingRole::kInitiator, b, a, 1, sizes_.latency_warmup, sizes_.latency_rounds,
                       plan_.timeout_s, s1.get());
      wait_bounded(s1.get(), host_wait_s(), "the self ping-pong (initiator)");
      wait_bounded(s2.get(), host_wait_s(), "the self ping-pong (responder)");
      fill(f, initiator.collect(), responder.collect());
    });
    return f;
  }

  static void fill(LatencyFacts& f, const PingPongOutcome& ini, const PingPongOutcome& resp) {
    f.ran = true;
    if (ini.timed_out || resp.timed_out) {
      f.timed_out = true;
      f.failed_round = ini.timed_out ? ini.failed_round : resp.failed_round;
      f.failed_side = ini.timed_out ? "the initiator" : "the responder";
      return;
    }
    const SampleStats s = dcp::summarize(ini.one_way_s);
    f.rounds = static_cast<int>(ini.one_way_s.size());
    f.p50_s = s.p50;
    f.p99_s = s.p99;
    f.mean_s = ini.mean_one_way_s;
  }

  void run_latency(DiagReport& report) {
    std::vector<LatencyFacts> mine;
    // Diagonal: one rank at a time, so ranks sharing a GPU do not disturb each other.
    for (int r = 0; r < size(); ++r) {
      world_.barrier("diag latency: self");
      if (r == me()) mine.push_back(self_latency());
    }
    if (size() > 1) {
      const fabric::Workspace* ws = workspace();
      std::uint32_t epoch = 1;
      for (int a = 0; a < size(); ++a) {
        for (int b = a + 1; b < size(); ++b) {
          ++epoch;
          const bool involved = me() == a || me() == b;
          LatencyFacts f;
          f.from = a;
          f.to = b;
          if (ws == nullptr) {
            f.skip_reason = no_workspace_reason();
          } else if (auto why = pair_skip_reason(rank(a), rank(b), false)) {
            f.skip_reason = *why +
                            ": two processes cannot keep spinning kernels resident on one "
                            "GPU at once";
          }
          world_.barrier("diag latency: pair");
          if (!involved) continue;
          if (f.skip_reason.empty()) {
            const bool initiator = me() == a;
            const int peer = initiator ? b : a;
            f.error = capture([&] {
              auto* send = reinterpret_cast<std::uint64_t*>(
                  static_cast<std::byte*>(ws->segment(peer)) + segment_.flag_offset(me()));
              const auto* recv = reinterpret_cast<const std::uint64_t*>(
                  static_cast<std::byte*>(ws->segment(me())) + segment_.flag_offset(peer));
              PingPongProbe probe(sizes_.latency_rounds);
              const Stream s;
              probe.launch(initiator ? PingRole::kInitiator : PingRole::kResponder, send, recv,
                           epoch, sizes_.latency_warmup, sizes_.latency_rounds, plan_.timeout_s,
                           s.get());
              wait_bounded(s.get(), host_wait_s(), "the ping-pong kernel");
              const PingPongOutcome o = probe.collect();
              if (initiator) {
                fill(f, o, PingPongOutcome{});
              } else {
                f.ran = false;  // the initiator's record carries the measurement
                f.timed_out = o.timed_out;
                f.failed_round = o.failed_round;
                if (o.timed_out) f.failed_side = "the responder";
              }
            });
          } else if (me() != a) {
            continue;  // the skip is recorded once, by the initiator
          }
          mine.push_back(std::move(f));
        }
      }
    }
    std::vector<LatencyFacts> all = merge_latency(gather_flat(world_, mine, "diag latency facts"));
    append(report.checks, latency_checks(ranks_, all));
    for (auto& m : latency_matrices(size(), all, latency_method()))
      report.matrices.push_back(std::move(m));
  }

  /// One record per pair: the initiator's, with the responder's timeout or error folded in.
  static std::vector<LatencyFacts> merge_latency(std::vector<LatencyFacts> all) {
    std::vector<LatencyFacts> out;
    for (auto& f : all) {
      auto it = std::find_if(out.begin(), out.end(), [&](const LatencyFacts& o) {
        return o.from == f.from && o.to == f.to;
      });
      if (it == out.end()) {
        out.push_back(std::move(f));
        continue;
      }
      LatencyFacts& keep = it->ran ? *it : f;
      LatencyFacts& other = it->ran ? f : *it;
      if (other.timed_out && !keep.timed_out) {
        keep.timed_out = true;
        keep.failed_round = other.failed_round;
        keep.failed_side = other.failed_side;
      }
      if (!other.error.empty()) {
        keep.error += (keep.error.empty() ? "" : "; ") +
                      fmt::format("rank {}: {}", other.from == keep.from ? other.to : other.from,
                                  other.error);
      }
      if (&keep != &*it) *it = std::move(keep);
    }
    std::sort(out.begin(), out.end(), [](const LatencyFacts& x, const LatencyFacts& y) {
      return std::pair(x.from != x.to, std::pair(x.from, x.to)) <
             std::pair(y.from != y.to, std::pair(y.from, y.to));
    });
    return out;
  }

  // ---- bandwidth -------------------------------------------------------------------------------

  std::string bandwidth_method() const {
    return fmt::format(
        "cudaMemcpyAsync (copy engine) from the source rank's GPU into the destination rank's "
        "cudaMalloc buffer (opened with cudaIpcOpenMemHandle), {} x {} after {} warm-up, CUDA "
        "events; one ordered pair at a time",
        format_mib(sizes_.copy_bytes), sizes_.copy_reps, sizes_.copy_warmup);
  }

  void run_bandwidth(DiagReport& report) {
    std::vector<BandwidthFacts> mine;
    const std::size_t bytes = sizes_.copy_bytes;
    DeviceMemory src;
    DeviceMemory dst;
    const std::string alloc_error = capture([&] {
      src = DeviceMemory(bytes);
      dst = DeviceMemory(bytes);
      DCP_CUDA_CHECK(cudaMemset(src.get(), 0x5A, bytes));
      DCP_CUDA_CHECK(cudaMemset(dst.get(), 0, bytes));
      DCP_CUDA_CHECK(cudaDeviceSynchronize());
    });
    const Stream stream;
    const auto timed = [&](BandwidthFacts& f, void* to) {
      f.bytes = bytes;
      f.reps = sizes_.copy_reps;
      f.error = capture([&] {
        f.seconds = time_copies(to, src.get(), bytes, sizes_.copy_warmup, sizes_.copy_reps,
                                stream.get(), host_wait_s());
        f.ran = true;
        f.Bps = f.seconds > 0 ? static_cast<double>(bytes) * f.reps / f.seconds : 0.0;
      });
    };
    for (int r = 0; r < size(); ++r) {
      world_.barrier("diag bandwidth: self");
      if (r != me()) continue;
      BandwidthFacts f;
      f.from = f.to = me();
      if (alloc_error.empty()) {
        timed(f, dst.get());
      } else {
        f.error = alloc_error;
      }
      mine.push_back(f);
    }
    if (size() > 1) {
      struct Wire {
        std::int32_t ok;
        cudaIpcMemHandle_t handle;
      };
      Wire w{};
      std::string export_error = alloc_error;
      if (export_error.empty()) {
        export_error = capture([&] { DCP_CUDA_CHECK(cudaIpcGetMemHandle(&w.handle, dst.get())); });
      }
      w.ok = export_error.empty() ? 1 : 0;
      const auto wires = world_.allgather(w, "diag bandwidth IPC handles");
      std::vector<OpenedIpcBuffer> opened(static_cast<std::size_t>(size()));
      std::vector<std::string> open_error(static_cast<std::size_t>(size()));
      for (int p = 0; p < size(); ++p) {
        if (p == me() || pair_skip_reason(rank(me()), rank(p), true)) continue;
        const auto i = static_cast<std::size_t>(p);
        if (wires[i].ok == 0) {
          open_error[i] = fmt::format("rank {} could not export its buffer", p);
        } else {
          open_error[i] = capture([&] { opened[i] = OpenedIpcBuffer(wires[i].handle); });
        }
      }
      for (int a = 0; a < size(); ++a) {
        for (int b = 0; b < size(); ++b) {
          if (a == b) continue;
          world_.barrier("diag bandwidth: pair");
          if (me() != a) continue;
          BandwidthFacts f;
          f.from = a;
          f.to = b;
          const auto i = static_cast<std::size_t>(b);
          const RankFacts& from = rank(a);
          const bool peer_visible = std::find(from.visible_uuids.begin(), from.visible_uuids.end(),
                                              rank(b).gpu_uuid) != from.visible_uuids.end();
          if (auto why = pair_skip_reason(from, rank(b), true)) {
            f.skip_reason =
                from.host == rank(b).host ? *why + ": a copy between them crosses no link" : *why;
          } else if (!alloc_error.empty()) {
            f.error = alloc_error;
          } else if (!open_error[i].empty() && !peer_visible) {
            // Legacy CUDA IPC may need the peer GPU visible in-process: not a fault of the link.
            f.skip_reason = fmt::format(
                "rank {}'s GPU is not visible in rank {}'s process (CUDA_VISIBLE_DEVICES={}) and "
                "this copy-engine test opens the peer's buffer with cudaIpcOpenMemHandle, which "
                "failed: {}; run with every GPU visible to every rank to measure it",
                b, a, from.cvd_set ? from.cvd : "(unset)", open_error[i]);
          } else if (!open_error[i].empty()) {
            f.error = "cudaIpcOpenMemHandle of the peer's buffer: " + open_error[i];
          } else {
            timed(f, opened[i].get());
          }
          mine.push_back(f);
        }
      }
      opened.clear();
      world_.barrier("diag bandwidth: buffers closed");  // before any rank frees its buffer
    }
    const auto all = gather_flat(world_, mine, "diag bandwidth facts");
    append(report.checks, bandwidth_checks(ranks_, all));
    report.matrices.push_back(bandwidth_matrix(size(), all, bandwidth_method()));
  }

  // ---- smoke -----------------------------------------------------------------------------------

  SmokeFacts smoke_facts() {
    // The exchange builds its own workspace: give back the diag one first (cuMem mappings are
    // kept small, environment.md).
    release_workspace();
    SmokeFacts f;
    for (const auto& r : ranks_) {
      if (r.cc_major < kMinCcMajor) {
        f.skip_reason = fmt::format(
            "rank {}'s GPU has compute capability {}.{}; the native exchange needs >= {}.{} (see "
            "gpu)",
            r.rank, r.cc_major, r.cc_minor, kMinCcMajor, kMinCcMinor);
      }
      for (const auto& o : ranks_) {
        if (o.rank > r.rank && f.skip_reason.empty()) {
          if (auto why = pair_skip_reason(r, o, false)) {
            f.skip_reason = *why + ": the exchange needs one GPU per rank";
          }
        }
      }
    }
    if (!f.skip_reason.empty()) return f;
    if (!env_.impls || env_.smoke_impl.empty()) {
      f.skip_reason = "no implementation to smoke-test was given to diag";
      return f;
    }

    SweepSpec spec;
    spec.axes.batch = {16};
    spec.axes.head_dim = {128};
    spec.axes.stats_dim = {2};
    spec.axes.dtype = {DType::kBf16};
    spec.axes.impl = {env_.smoke_impl};
    spec.axes.launch = {LaunchMode::kEager};
    spec.axes.pdl = {true};
    if (size() == 1) {
      spec.axes.cp_size = {2};
      spec.axes.workspace = {WorkspaceKind::kSim};
      f.note = "single rank: cp=2 simulated on one GPU (sim workspace)";
    } else {
      spec.axes.cp_size = {size()};
      spec.axes.workspace = {single_host(ranks_) ? WorkspaceKind::kIpc : WorkspaceKind::kAuto};
    }
    spec.measure.warmup = 2;
    spec.measure.iters = sizes_.smoke_iters;
    spec.measure.timeout_s = plan_.timeout_s;
    f.ran = true;
    std::string error;
    try {
      validate(spec);
      // Built from the gathered facts, so identical on every rank: no agreement needed.
      const ResolvedSweep sweep = resolve_sweep(spec, env_.impls->catalog(), size());
      const bench::SweepOutcome outcome = bench::run_sweep(sweep, *env_.impls, world_, {});
      DCP_CHECK(outcome.results.size() == 1, "diag smoke test: expected one result");
      const CaseResult& r = outcome.results.front();
      f.case_key = r.c.key();
      f.status = std::string(to_string(r.status));
      f.exact = r.status == CaseStatus::kOk && r.verify.ok();
      f.verify = r.verify.summary();
      if (r.timing) f.p50_s = r.timing->stats.p50;
      if (r.status == CaseStatus::kSkipped) f.skip_reason = r.skip_reason;
      if (r.status == CaseStatus::kError) error = r.error;
    } catch (const Error& e) {
      // A device-side timeout of the exchange (TimeoutError from check()) is a FAIL of this
      // check, not of diag.
      error = e.what();
    }
    f.error = error;
    const auto all = gather(world_, f, "diag smoke-test facts");
    SmokeFacts merged = all.front();
    for (const auto& o : all) {
      if (!o.error.empty() && merged.error.empty()) merged.error = o.error;
    }
    return merged;
  }

  const DiagPlan& plan_;
  const World& world_;
  int device_;
  const DiagEnvironment& env_;
  ProbeSizes sizes_;
  SegmentPlan segment_;
  std::vector<RankFacts> ranks_;
  std::unique_ptr<fabric::Workspace> workspace_;
  bool workspace_tried_ = false;
  std::string workspace_error_;
};

}  // namespace

ProbeSizes probe_sizes(bool quick) {
  ProbeSizes s;
  s.latency_warmup = quick ? 50 : 200;
  s.latency_rounds = quick ? 1000 : 10000;
  s.copy_bytes = quick ? (std::size_t{32} << 20) : (std::size_t{256} << 20);
  s.copy_warmup = 2;
  s.copy_reps = quick ? 5 : 10;
  s.smoke_iters = quick ? 5 : 20;
  return s;
}

int select_diag_device(const World& world) {
  const int count = require_cuda_devices();
  const int device = world.local_rank() % count;
  DCP_CUDA_CHECK(cudaSetDevice(device));
  DCP_CUDA_CHECK(cudaFree(nullptr));  // create the context now, not inside the first check
  return device;
}

DiagReport run_checks(const DiagPlan& plan, const World& world, int device,
                      const DiagEnvironment& env) {
  return Runner(plan, world, device, env).run();
}

}  // namespace dcp::diag
