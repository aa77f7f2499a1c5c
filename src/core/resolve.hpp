#pragma once
/// @file
/// Resolve once: the one step that turns a validated spec (built-in default < --config < flags)
/// into the sweep a job runs. Everything that depends on the job or on the implementations is
/// decided here, before any GPU work, and the result is expanded once; the CLI agrees it across
/// ranks once (bench::require_same_plan) and hands it to the runner as it is.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/impl_info.hpp"
#include "core/sweep.hpp"

namespace dcp {

/// A sweep ready to run.
struct ResolvedSweep {
  SweepSpec spec;                  ///< as run: cp_size and impl filled in
  std::vector<PlannedRun> runs;    ///< expand(spec) in the documented order
  std::vector<std::string> notes;  ///< what resolution decided (for stderr and the report)

  friend bool operator==(const ResolvedSweep&, const ResolvedSweep&) = default;
};

/// Resolves `spec` (already validate()d) for a job of `world_size` processes. Pure and
/// deterministic: every rank given the same spec gets the same sweep. In order:
///  1. one process, no cp_size and workspace auto or sim: simulate cp = 2 and 4 on the one GPU
///     (workspace sim), with a note;
///  2. an empty impl axis becomes `catalog`'s default set; every name must be in the catalog and
///     implement some op of its block (it is expanded for the ops it implements only);
///  3. validate_for_world: cp_size must equal the world size unless every workspace is sim;
///  4. --inject's rank must exist: a process rank for kill and shape-mismatch, else an exchange
///     rank (below the largest simulated cp in sim mode, below the world size otherwise);
///  5. every case's exchange buffers must fit one GPU (buffer_bytes_per_gpu, at most
///     kMaxBufferBytesPerGpu);
///  6. expand; an op that none of a block's implementations implements runs nothing (a note),
///     and a sweep left with no run at all is refused (field `op`).
/// With blocks (SweepSpec::blocks) steps 1-5 apply to each block.
/// Throws ConfigError naming the field, the value and what is accepted. `catalog` must outlive
/// the result (its runs point at the rows).
ResolvedSweep resolve_sweep(SweepSpec spec, const ImplCatalog& catalog, int world_size);

/// Whether some run asks for an `auto` workspace (which only the job itself can resolve).
bool has_auto_workspace(const ResolvedSweep& sweep);

/// Records what `auto` resolved to on this job (`kind`, decided collectively, identical on
/// every rank): the spec's workspace axis and every run name `kind` instead, and a run that
/// duplicates an earlier one (auto and `kind` both asked for) is dropped, with a note. The runs
/// are not expanded again: their order and count are the agreed plan's, minus duplicates.
void resolve_auto_workspace(ResolvedSweep& sweep, WorkspaceKind kind);

/// Bytes of exchange buffers one GPU holds for case `c`: `ring` sets of the four tensors
/// (in_o, in_stats, out_o, out_stats, each at a 256-byte aligned offset) for each of the
/// `local_ranks` ranks it runs (cp_size in sim mode, else 1). nullopt when the number does not
/// fit 64 bits.
std::optional<std::uint64_t> buffer_bytes_per_gpu(const Case& c, int ring, int local_ranks);

}  // namespace dcp
