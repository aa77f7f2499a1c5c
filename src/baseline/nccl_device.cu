#include "baseline/nccl_device.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "baseline/copy_units.cuh"
#include "baseline/impls.hpp"
#include "baseline/transpose.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/error.hpp"
#include "core/fault.hpp"

// nccl_device.h ships with NCCL >= 2.28. Without it this file builds a stub: nccl_comm.cpp's
// device_api_unsupported_reason() then reports the old headers and nothing here is launched.
#if __has_include(<nccl_device.h>)
#include <nccl_device.h>
#define DCP_HAVE_NCCL_DEVICE_H 1
#else
#define DCP_HAVE_NCCL_DEVICE_H 0
#endif

namespace dcp::baseline {

namespace {

constexpr int kThreads = 512;
/// CTAs of the push kernel at most; each CTA owns one LSA barrier of the device communicator,
/// so this is also the barrier count requested from ncclDevCommCreate.
constexpr int kMaxCtas = 16;
/// Copy units per thread before another CTA is worth its barrier traffic.
constexpr std::int64_t kUnitsPerThread = 4;

/// Error word written by the kernel when a barrier wait expires (first writer wins):
/// bit 31 set, bit 30 = phase (0 entry, 1 exit), bits 20..29 = CTA, bits 0..19 = peer rank.
constexpr std::uint32_t kErrorFlag = 1u << 31;
constexpr std::uint32_t kPhaseEntry = 0;
constexpr std::uint32_t kPhaseExit = 1;

std::string str(std::int64_t v) {
  return std::to_string(v);
}

/// Everything the kernel needs besides the device communicator.
struct PushArgs {
  NcclWindow window;          ///< the ring set's block (same offsets on every rank)
  std::size_t out_o_off;      ///< byte offset of out_o in the window
  std::size_t out_stats_off;  ///< byte offset of out_stats in the window
  const void* in_o;           ///< local input [E, cp, D]
  const void* in_stats;       ///< local input [E, cp, S]
  std::int64_t o_units_per_row;
  std::int64_t o_units;  ///< E × cp × o_units_per_row
  std::int64_t s_units_per_row;
  std::int64_t s_units;
  int cp;
  int rank;
  std::uint64_t timeout_ns;  ///< bound on each barrier wait, from kernel start
  std::uint32_t* error;      ///< device error word (kErrorFlag | ...), 0 = no error
};

#if DCP_HAVE_NCCL_DEVICE_H

__device__ __forceinline__ std::uint64_t global_ns() {
  std::uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

using Barrier = ncclLsaBarrierSession<ncclCoopCta>;

/// The wait half of an LSA barrier, bounded: NCCL's own wait spins until every peer arrived,
/// which would hang this rank forever when a peer never launches. Same protocol as NCCL 2.28's
/// ncclLsaBarrierSession::wait (unicast inboxes: each peer stores epoch+1 into our inbox slot for
/// it), plus a deadline that records the first peer that did not arrive. Returns, for the whole
/// CTA, whether every peer arrived.
__device__ bool bounded_wait(Barrier& bar, const ncclDevComm& dev_comm, const PushArgs& a,
                             std::uint32_t phase, std::uint64_t start_ns) {
  bool ok = true;
  const ncclTeam team = bar.team;
  const std::uint32_t want = bar.epoch + 1;
  for (int i = threadIdx.x; i < team.nRanks - 1; i += blockDim.x) {
    const int peer = i + (team.rank <= i ? 1 : 0);
    cuda::atomic_ref<std::uint32_t> inbox(*bar.ucInbox(team.rank, peer));
    for (std::uint32_t spin = 1;; ++spin) {
      // Wrap-around safe "inbox >= want".
      if (inbox.load(cuda::memory_order_acquire) - want <= 0x7fffffffu) break;
      if ((spin & 255u) == 0 && global_ns() - start_ns > a.timeout_ns) {
        const int world_peer = ncclTeamRankToWorld(dev_comm, team, peer);
        atomicCAS(a.error, 0u,
                  kErrorFlag | (phase << 30) | ((blockIdx.x & 0x3ffu) << 20) |
                      (static_cast<std::uint32_t>(world_peer) & 0xfffffu));
        ok = false;
        break;
      }
    }
  }
  bar.epoch += 1;
  return __syncthreads_and(ok) != 0;
}

/// Input unit `u` of a tensor with `per_row` units per row, pushed to its owner's output window.
template <typename U>
__device__ __forceinline__ void push_unit(NcclWindow window, std::size_t out_off, const void* in,
                                          std::int64_t per_row, std::int64_t u, int cp, int rank) {
  const std::int64_t row = u / per_row;
  const std::int64_t k = u - row * per_row;
  U* out = static_cast<U*>(ncclGetPeerPointer(window, out_off, push_dest_rank(row, cp)));
  out[push_dest_row(row, rank, cp) * per_row + k] = static_cast<const U*>(in)[u];
}

template <typename UO, typename US>
__global__ void __launch_bounds__(kThreads)
    push_kernel(__grid_constant__ const ncclDevComm dev_comm, const PushArgs a) {
  const std::uint64_t start_ns = global_ns();
  Barrier bar(ncclCoopCta(), dev_comm, ncclTeamLsa(dev_comm), dev_comm.lsaBarrier, blockIdx.x);

  // Entry: every peer runs this kernel, so its earlier stream work on its outputs is done.
  bar.arrive(ncclCoopCta(), cuda::memory_order_release);
  if (!bounded_wait(bar, dev_comm, a, kPhaseEntry, start_ns)) return;

  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (std::int64_t u = first; u < a.o_units; u += stride)
    push_unit<UO>(a.window, a.out_o_off, a.in_o, a.o_units_per_row, u, a.cp, a.rank);
  for (std::int64_t u = first; u < a.s_units; u += stride)
    push_unit<US>(a.window, a.out_stats_off, a.in_stats, a.s_units_per_row, u, a.cp, a.rank);

  // Exit: arrive() syncs the CTA and releases its writes; once every peer's CTA of the same
  // index arrived, the rows they pushed into this rank are visible here.
  bar.arrive(ncclCoopCta(), cuda::memory_order_release);
  (void)bounded_wait(bar, dev_comm, a, kPhaseExit, start_ns);
}

/// The instantiation of push_kernel for a pair of copy units, chosen once per case.
using PushKernel = void (*)(const ncclDevComm, const PushArgs);

PushKernel push_kernel_for(int o_unit, int s_unit) {
  PushKernel k = nullptr;
  detail::with_unit(o_unit, [&](auto o_tag) {
    detail::with_unit(s_unit, [&](auto s_tag) {
      using UO = typename decltype(o_tag)::type;
      using US = typename decltype(s_tag)::type;
      k = &push_kernel<UO, US>;
    });
  });
  return k;
}

#endif  // DCP_HAVE_NCCL_DEVICE_H

}  // namespace

struct NcclDeviceAllToAll::State {
#if DCP_HAVE_NCCL_DEVICE_H
  ncclDevComm dev_comm{};
  PushKernel kernel = nullptr;  ///< per case: the instantiation for its copy units
#endif
  bool dev_comm_created = false;
  bool support_known = false;
  std::optional<std::string> unsupported;

  // Per case.
  std::optional<ExchangeSetup> setup;
  std::vector<PushArgs> slots;  ///< launch arguments per ring set
  DeviceMemory error_word;
  int ctas = 1;
  int o_unit = 1;
  int s_unit = 1;
  bool skip_launch = false;
  std::string detail;
};

NcclDeviceAllToAll::NcclDeviceAllToAll(std::shared_ptr<NcclContext> ctx)
    : ctx_(std::move(ctx)), state_(std::make_unique<State>()) {
  DCP_CHECK(ctx_ != nullptr, "NcclDeviceAllToAll needs an NcclContext");
}

NcclDeviceAllToAll::~NcclDeviceAllToAll() {
#if DCP_HAVE_NCCL_DEVICE_H
  if (state_->dev_comm_created && ctx_->has_comm() && !ctx_->aborted()) {
    try {
      ctx_->comm().destroy_dev_comm(&state_->dev_comm);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s dcpbench: ncclDevCommDestroy failed: %s\n",
                   ctx_->bootstrap().tag.c_str(), e.what());
    }
  }
#endif
}

std::string NcclDeviceAllToAll::name() const {
  return std::string(kNcclDeviceName);
}

std::optional<std::string> NcclDeviceAllToAll::prepare_device_api() const {
  State& st = *state_;
  if (st.support_known) return st.unsupported;
  auto decide = [&](std::optional<std::string> reason) {
    st.support_known = true;
    st.unsupported = std::move(reason);
    return st.unsupported;
  };
  if (auto reason = device_api_unsupported_reason()) return decide(reason);
#if DCP_HAVE_NCCL_DEVICE_H
  int device = 0;
  int major = 0;
  int minor = 0;
  DCP_CUDA_CHECK(cudaGetDevice(&device));
  DCP_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  DCP_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  if (major < 9) {
    return decide("GPU " + std::to_string(device) + " has compute capability " +
                  std::to_string(major) + "." + std::to_string(minor) +
                  "; nccl-device needs 9.0 or newer");
  }
  // Collective from here on: the communicator and the device communicator.
  NcclComm& comm = ctx_->comm();
  try {
    comm.create_dev_comm(kMaxCtas, &st.dev_comm);
  } catch (const NcclError& e) {
    return decide(std::string("ncclDevCommCreate failed: ") + e.what());
  }
  st.dev_comm_created = true;
  if (st.dev_comm.lsaSize != st.dev_comm.nRanks) {
    return decide("NCCL's LSA team (ranks whose memory this GPU can load/store directly) holds " +
                  std::to_string(st.dev_comm.lsaSize) + " of the " +
                  std::to_string(st.dev_comm.nRanks) + " ranks; nccl-device needs all of them");
  }
  return decide(std::nullopt);
#else
  return decide(std::string("dcpbench was built without nccl_device.h"));
#endif
}

std::optional<std::string> NcclDeviceAllToAll::unsupported_reason(const Case& c) const {
  if (auto reason = nccl_rank_layout_reason(c, ctx_->size())) return reason;
  return prepare_device_api();
}

std::unique_ptr<BufferAllocator> NcclDeviceAllToAll::make_allocator() {
  return std::make_unique<NcclWindowAllocator>(ctx_);
}

void NcclDeviceAllToAll::setup(const ExchangeSetup& s) {
  const Case& c = s.c;
  DCP_CHECK(!nccl_rank_layout_reason(c, ctx_->size()), "nccl-device set up for a skipped case");
  DCP_CHECK(s.local_ranks == 1 && s.streams.size() == 1 && s.first_rank == ctx_->rank(),
            "NCCL baselines run one rank per process");
  DCP_CHECK(!s.ring.empty(), "empty ring");
  if (auto reason = prepare_device_api()) throw EnvironmentError("nccl-device: " + *reason);
  teardown();
  State& st = *state_;

  const std::int64_t entries = c.batch;
  const std::int64_t rows = entries * c.cp_size;
  const auto o_row = static_cast<std::int64_t>(c.o_row_bytes());
  const auto s_row = static_cast<std::int64_t>(c.stats_row_bytes());
  st.o_unit = copy_unit_bytes(o_row);
  st.s_unit = copy_unit_bytes(s_row);
  st.error_word = DeviceMemory(sizeof(std::uint32_t));
  DCP_CUDA_CHECK(cudaMemsetAsync(st.error_word.get(), 0, sizeof(std::uint32_t), s.streams[0]));

  // Each ring set's outputs must lie in one registered window; peers are addressed by offset.
  std::vector<std::uint64_t> offsets;
  for (const BufferSet& set : s.ring) {
    DCP_CHECK(set.ranks.size() == 1, "NCCL baselines expect one rank per buffer set");
    const RankBuffers& b = set.ranks[0];
    const auto wo = ctx_->find_window(b.out_o);
    const auto ws = ctx_->find_window(b.out_stats);
    if (!wo || !ws || wo->window != ws->window) {
      throw Error(
          "nccl-device: the output buffers are not inside one NCCL window from its "
          "make_allocator(); the runner must allocate the exchange blocks with it");
    }
    PushArgs a{};
    a.window = wo->window;
    a.out_o_off = wo->offset;
    a.out_stats_off = ws->offset;
    a.in_o = b.in_o;
    a.in_stats = b.in_stats;
    a.o_units_per_row = o_row / st.o_unit;
    a.o_units = rows * a.o_units_per_row;
    a.s_units_per_row = s_row / st.s_unit;
    a.s_units = rows * a.s_units_per_row;
    a.cp = c.cp_size;
    a.rank = ctx_->rank();
    a.timeout_ns = static_cast<std::uint64_t>(s.timeout_s * 1e9);
    a.error = st.error_word.as<std::uint32_t>();
    st.slots.push_back(a);
    offsets.push_back(a.out_o_off);
    offsets.push_back(a.out_stats_off);
  }
  // Every rank must find its peers' outputs at its own offsets.
  const auto mine = std::as_bytes(std::span(offsets));
  const std::vector<std::byte> all = ctx_->bootstrap().allgather(mine, "nccl-device offsets");
  for (int r = 0; r < ctx_->size(); ++r) {
    if (std::memcmp(all.data() + static_cast<std::size_t>(r) * mine.size(), mine.data(),
                    mine.size()) != 0) {
      throw Error("nccl-device: rank " + std::to_string(r) +
                  " has its outputs at other offsets inside its window than this rank; the "
                  "runner must lay the blocks out identically on every rank");
    }
  }

  const std::int64_t units = st.slots.front().o_units + st.slots.front().s_units;
  const std::int64_t per_cta = std::int64_t{kThreads} * kUnitsPerThread;
  st.ctas =
      static_cast<int>(std::clamp<std::int64_t>((units + per_cta - 1) / per_cta, 1, kMaxCtas));
  st.skip_launch =
      s.inject && s.inject->kind == FaultKind::kSkipLaunch && s.inject->applies_to(ctx_->rank());
#if DCP_HAVE_NCCL_DEVICE_H
  st.kernel = push_kernel_for(st.o_unit, st.s_unit);
#endif
  st.setup = s;
  st.detail = entries == 0
                  ? std::string("E=0: nothing to move")
                  : "one push kernel (" + str(st.ctas) + " CTA(s) x " + str(kThreads) +
                        " threads, " + str(st.o_unit) + "/" + str(st.s_unit) +
                        "-byte units) stores both tensors' rows straight into each peer's "
                        "symmetric window (ncclMemAlloc + ncclCommWindowRegister) through LSA "
                        "pointers, between LSA barriers at entry and exit (bounded waits); no "
                        "transposes";
  st.detail += "; NCCL " + loaded_nccl_version();
  if (st.skip_launch) st.detail += "; fault injection: this rank skips the launch";
}

void NcclDeviceAllToAll::run(std::size_t slot) {
  // Everything was computed and checked in setup(); E = 0 moves nothing.
  const State& st = *state_;
  DCP_CHECK(st.setup.has_value(), "nccl-device: run() before setup()");
  assert(slot < st.slots.size());
  if (st.setup->c.batch == 0 || st.skip_launch) return;
#if DCP_HAVE_NCCL_DEVICE_H
  st.kernel<<<st.ctas, kThreads, 0, st.setup->streams[0]>>>(st.dev_comm, st.slots[slot]);
  DCP_CUDA_CHECK_LAUNCH();
#else
  (void)slot;
#endif
}

void NcclDeviceAllToAll::check() {
  State& st = *state_;
  if (st.error_word.get()) {
    std::uint32_t word = 0;
    DCP_CUDA_CHECK(cudaMemcpy(&word, st.error_word.get(), sizeof(word), cudaMemcpyDeviceToHost));
    if (word & kErrorFlag) {
      const std::uint32_t phase = (word >> 30) & 1u;
      const std::uint32_t cta = (word >> 20) & 0x3ffu;
      const std::uint32_t peer = word & 0xfffffu;
      throw TimeoutError(ctx_->bootstrap().tag + " nccl-device: CTA " + std::to_string(cta) +
                         " waited more than " +
                         std::to_string(st.setup ? st.setup->timeout_s : 0.0) + " s at the " +
                         (phase == kPhaseEntry ? "entry" : "exit") + " LSA barrier for rank " +
                         std::to_string(peer) +
                         " (it never launched the exchange, or is stuck); the device "
                         "communicator's barriers are out of step now");
    }
  }
  if (ctx_->has_comm() || ctx_->aborted()) ctx_->comm().check_async(name());
}

void NcclDeviceAllToAll::teardown() {
  State& st = *state_;
  st.setup.reset();
  st.slots.clear();
  st.error_word.reset();
  st.detail.clear();
}

void NcclDeviceAllToAll::abort_inflight() noexcept {
  ctx_->abort();
}

std::string NcclDeviceAllToAll::detail() const {
  return state_->detail;
}

}  // namespace dcp::baseline
