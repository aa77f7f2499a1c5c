#pragma once
/// @file
/// Workspace: every cp rank's segment of exchange memory, mapped into this process.
///
/// The native exchange writes into its peers' segments directly, so each process needs all cp
/// segments mapped. How they get there is the workspace kind:
///   sim     one cudaMalloc'd allocation on one GPU, cp segments in it (all ranks in one process)
///   ipc     cuMem allocations exported as POSIX fds, passed over a private Unix socket, mapped
///   fabric  cuMem FABRIC handles (MNNVL / IMEX), exchanged with MPI allgather, mapped
///   auto    fabric where it works on every rank, else ipc when all ranks share a host
/// The layout inside a segment is the exchange's business (kernels/), not the workspace's.
///
/// Creation is collective and synchronous: every rank calls the factory with the same size; the
/// local segments are zero-filled, the device synchronised, and all ranks pass a barrier before
/// the factory returns, so no peer can write into a segment before it was initialised.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "core/world.hpp"

namespace dcp::fabric {

class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  /// Unmaps and releases; the owner must have synchronised every kernel that used it.
  virtual ~Workspace() = default;

  /// The resolved kind (never kAuto).
  [[nodiscard]] virtual WorkspaceKind kind() const = 0;
  [[nodiscard]] virtual int cp_size() const = 0;
  /// Bytes of each rank's segment (identical on all ranks; checked at creation).
  [[nodiscard]] virtual std::size_t segment_bytes() const = 0;
  /// Device address of rank r's segment, valid in this process on this process's GPU.
  [[nodiscard]] virtual void* segment(int r) const = 0;
  /// Zero-fills the segments this process owns, synchronises, and (outside sim) passes a
  /// barrier. Collective: every rank calls it, with no exchange kernel in flight.
  virtual void reset() = 0;
  /// One line about how the segments are mapped (for reports and diag).
  [[nodiscard]] virtual std::string describe() const = 0;

  /// Pointers to every segment, indexed by rank.
  [[nodiscard]] std::vector<void*> segments() const {
    std::vector<void*> out;
    for (int r = 0; r < cp_size(); ++r)
      out.push_back(segment(r));
    return out;
  }
};

/// All cp segments in one allocation on the current device (sim mode).
std::unique_ptr<Workspace> make_sim_workspace(int cp_size, std::size_t segment_bytes);

/// One segment per rank of `world` (cp = world size), of kind ipc, fabric or auto. Collective.
/// Throws EnvironmentError naming the failed step, its cause and what to try.
///
/// Segment r lives at segment(0) + r * stride in every process (one reserved virtual range, row
/// order = rank order in `world`); the stride is segment_bytes rounded up to the allocation
/// granularity (2 MiB on H100/H200). `world` must outlive the workspace (reset() uses it), and
/// the owner must synchronise every kernel that may touch the segments before destroying it:
/// destruction unmaps at once and does not synchronise (a hung kernel must not hang teardown).
/// Keep segments small (a few MiB): every process maps cp of them (environment.md notes a
/// driver crash in cuMemSetAccess with larger cuMem mappings on one H200).
std::unique_ptr<Workspace> make_shared_workspace(WorkspaceKind kind, const World& world,
                                                 std::size_t segment_bytes);

/// The kind make_shared_workspace builds for `requested`: kAuto becomes kFabric when a one-granule
/// fabric workspace can be built on every rank (attribute, cuMemCreate, export, import on the
/// peers, map), else kIpc when all ranks share a host, else EnvironmentError explaining both
/// failures. Other kinds are returned unchanged. Collective (for kAuto).
WorkspaceKind resolve_workspace_kind(WorkspaceKind requested, const World& world);

}  // namespace dcp::fabric
