#pragma once
/// @file
/// AllToAllImpl: the one interface every exchange implements (native LL128, NCCL baselines).
///
/// The measurement engine (bench/) drives any implementation through it and never sees an
/// implementation's internals; kernels/ and baseline/ never include each other. The header is
/// CUDA-free: streams are passed as the opaque CUstream_st* that cudaStream_t aliases.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/case.hpp"
#include "core/fault.hpp"
#include "core/limits.hpp"

struct CUstream_st;

namespace dcp {

/// Same type as cudaStream_t, without including CUDA headers.
using StreamHandle = CUstream_st*;

/// Device pointers to one rank's four tensors for one input/output set, all contiguous.
///   op exchange: in_o, out_o [E, cp, D] bf16/fp16; in_stats, out_stats [E, cp, S] fp32.
///   op reduce:   in_o = partial_o [E, cp, D] (row (e, p): this rank's partial output of entry e
///                for destination rank p), in_stats = lse [E, cp] fp32 (S = 1), out_o = out
///                [E, D] (the merged output of this rank's own entries, same dtype), out_stats =
///                lse_out [E] fp32 (same base as the inputs).
struct RankBuffers {
  const void* in_o = nullptr;
  const void* in_stats = nullptr;
  void* out_o = nullptr;
  void* out_stats = nullptr;
};

/// One input/output set: buffers for each rank this process runs (index = local rank slot).
struct BufferSet {
  std::vector<RankBuffers> ranks;
};

/// Allocates the device memory an implementation's exchange buffers must live in.
/// The runner makes ONE allocation per (ring set, local rank) holding that rank's four tensors
/// (in_o, in_stats, out_o, out_stats at 256-byte aligned offsets that are identical on every
/// rank), and every rank allocates and releases in the same order with the same sizes, so an
/// implementation may register each block collectively (e.g. as an NCCL window) and find a
/// peer's tensor at the same offset inside the peer's block.
class BufferAllocator {
 public:
  virtual ~BufferAllocator() = default;
  /// `bytes` of device memory on the current device, aligned to at least 256 bytes.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void release(void* ptr) noexcept = 0;
};

/// Everything an implementation is told for one case.
struct ExchangeSetup {
  Case c;
  int first_rank = 0;   ///< exchange rank of local slot 0 (this process's MPI rank, or 0 in sim)
  int local_ranks = 1;  ///< ranks run by this process: 1, or cp_size in sim mode
  std::vector<BufferSet> ring;           ///< distinct input/output sets; run(slot) uses ring[slot]
  std::vector<StreamHandle> streams;     ///< one per local rank
  double timeout_s = kDefaultTimeoutS;   ///< device-side waits on peers give up after this
  std::optional<FaultInjection> inject;  ///< testing aid; the impl honours what applies to it
  /// LL128 strategies may run over paths not validated for LL128 (MeasureOptions).
  bool allow_unvalidated_path = false;
};

class AllToAllImpl {
 public:
  AllToAllImpl() = default;
  AllToAllImpl(const AllToAllImpl&) = delete;
  AllToAllImpl& operator=(const AllToAllImpl&) = delete;
  virtual ~AllToAllImpl() = default;

  /// Its registry row's name (core/impl_info.hpp).
  [[nodiscard]] virtual std::string name() const = 0;

  /// Why this implementation cannot run `c` in this job (nullopt when it can). A skipped case is
  /// reported with this reason, never silently dropped.
  [[nodiscard]] virtual std::optional<std::string> unsupported_reason(const Case& c) const = 0;

  /// The allocator for this implementation's exchange buffers; nullptr = plain cudaMalloc.
  [[nodiscard]] virtual std::unique_ptr<BufferAllocator> make_allocator() { return nullptr; }

  /// Prepares `s.c` on the given buffers and streams (may allocate and synchronise; collective
  /// across ranks where the implementation needs it). Called before any run().
  virtual void setup(const ExchangeSetup& s) = 0;

  /// Enqueues one exchange (op reduce: exchange and merge) on every local stream using ring set
  /// `slot`: no host synchronisation, no allocation, capturable into a CUDA graph.
  virtual void run(std::size_t slot) = 0;

  /// Strategies made of several launches name their parts (e.g. {"exchange", "merge"}); the
  /// runner then times each part alone with run_part(), the same way and in the same run as the
  /// whole. Empty (the default): one part, nothing to split.
  [[nodiscard]] virtual std::vector<std::string> parts() const { return {}; }
  /// Enqueues part `part` (index into parts()) of one call on ring set `slot`, with the same
  /// rules as run(). Running every part in order is one whole call.
  virtual void run_part(std::size_t slot, std::size_t part) {
    (void)part;
    run(slot);
  }

  /// Called after the streams were synchronised: throws TimeoutError when a device-side wait on
  /// a peer expired (naming rank, peer and what was awaited), or another dcp::Error for a
  /// deferred failure. Leaves the implementation unusable after a timeout.
  virtual void check() = 0;

  /// Releases what setup() made for this case.
  virtual void teardown() = 0;

  /// Called when waiting for this implementation's device work timed out on the host: release
  /// work stuck on peers (e.g. ncclCommAbort) so the process can exit. The implementation is
  /// unusable afterwards. Must not throw.
  virtual void abort_inflight() noexcept {}

  /// For the current case (after setup()): how many consecutive calls with fresh inputs reuse
  /// every buffer the implementation carries from call to call (e.g. each slot of its FIFOs) at
  /// least once with new data, so that stale bytes of an earlier call cannot pass verification.
  /// The runner's correctness pass makes at least this many calls (and at least one per ring
  /// set). 0: nothing is carried between calls.
  [[nodiscard]] virtual std::uint64_t min_fresh_calls() const { return 0; }

  /// Per-rank workspace bytes held for the current case (0 when none).
  [[nodiscard]] virtual std::size_t workspace_bytes() const { return 0; }
  /// A short free-form description of how the current case runs (channels, NCCL path, ...).
  [[nodiscard]] virtual std::string detail() const { return {}; }
};

}  // namespace dcp
