#pragma once
/// @file
/// The direct protocol's two schemes written down as data: for one call, the ordered list of
/// actions each CTA of each launch performs (which rows it writes where, which flags it releases
/// and awaits, which blocks it delivers), and a checker of the rules a call's programs must obey.
///
/// Two schemes on the same layout (direct_layout.hpp):
///  - fused: ONE launch; CTA c of every rank owns the blocks cta_blocks(plan, c) (fused_plan.hpp):
///    per block, it writes the rows to every destination, then releases the block's flag to each
///    of them; then per block it awaits every source's flag and delivers (copy or merge); last,
///    it arrives on the rank's arrival counter (the last CTA advances the epoch).
///  - staged (vLLM's direct path, the `direct-staged` baseline): four launches per call, each one
///    a grid of its own: (1) advance the epoch, (2) write the rows to every destination (blocks
///    spread over the CTAs), (3) release one flag per destination (slot kPairFlagBlock, covering
///    every block: the write launch has completed before), (4) await every source's pair flag,
///    then deliver the CTA's blocks.
///
/// The GPU kernels implement exactly these sequences with loops over the same layout functions;
/// the CPU emulation (direct_reference.hpp) executes these lists; protocol_problem() checks them
/// statically: every awaited flag is released exactly once with the same value and coverage,
/// every row written exactly once into the call's parity, a flag released only after the rows it
/// covers were written (same CTA earlier, or an earlier launch: a kernel boundary), a block
/// delivered only after every source's covering flag was awaited in the same CTA, each block
/// delivered exactly once. What it cannot check: cross-call reuse (that is the emulation's job
/// and the argument at direct::parity_of), and anything about the GPU memory system.
///
/// Host-only (std::vector); the device sees only the layout functions.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernels/direct_layout.hpp"
#include "kernels/fused_plan.hpp"

namespace dcp::kernels::direct {

/// One step of a CTA's program.
enum class Op : std::uint8_t {
  kWriteRows,     ///< rows (e, peer) and their stats, e in `block`, into peer's region (parity, me)
  kReleaseFlag,   ///< flag (parity, slot) in peer's segment := value (release)
  kAwaitFlag,     ///< await flag (parity, slot) from source `peer` in own segment == value
  kDeliver,       ///< read block `block` of every source from own regions (parity); copy or merge
  kAdvanceEpoch,  ///< staged launch 1: epoch word := epoch + 1
  kArrive,        ///< fused: arrival counter += 1; the last CTA resets it and advances the epoch
};

/// Name for messages ("write", "release", "await", "deliver", "advance", "arrive").
const char* op_name(Op op);

/// One action. Fields that do not apply to `op` are 0.
struct Action {
  Op op = Op::kWriteRows;
  int peer = 0;                   ///< destination (write, release) or source (await)
  std::uint32_t parity = 0;       ///< region / flag parity
  std::uint32_t block = 0;        ///< write/deliver: the block; release/await: the flag slot
  std::uint32_t cover_first = 0;  ///< release/await: the flag covers blocks
  std::uint32_t cover_count = 0;  ///< [cover_first, cover_first + cover_count)
  std::uint64_t value = 0;        ///< release/await: the flag value (epoch + 1)

  friend bool operator==(const Action&, const Action&) = default;
};

/// A CTA's program for one launch.
using Program = std::vector<Action>;
/// One rank's launches of one call: launches[l][cta].
using RankCall = std::vector<std::vector<Program>>;

/// The fused scheme's program of CTA `cta` (of plan.ctas) on `rank` for the call with `epoch`.
/// `plan` must be a direct plan of `layout`'s case (same entries, unit = layout.block_entries).
Program fused_cta_program(const Layout& layout, const fused::FusedPlan& plan, int rank, int cta,
                          std::uint64_t epoch);

/// CTAs of a staged launch: 1 for advance and signal, else min(blocks, max_ctas) (>= 1).
int staged_ctas(StagedStep step, const Layout& layout, int max_ctas);

/// Blocks of CTA `cta` of `ctas` in the staged write and wait launches (an even split).
fused::Range staged_cta_blocks(const Layout& layout, int cta, int ctas);

/// The staged scheme's program of CTA `cta` of launch `step` on `rank` for the call with
/// `epoch` (the call's epoch: staged_call_epoch of the word the launch read).
Program staged_cta_program(const Layout& layout, StagedStep step, int rank, int cta, int ctas,
                           std::uint64_t epoch);

/// Every launch of one call of `rank`: fused (one launch of plan.ctas CTAs) or staged (four
/// launches of staged_ctas(step, layout, max_ctas) CTAs).
RankCall fused_call(const Layout& layout, const fused::FusedPlan& plan, int rank,
                    std::uint64_t epoch);
RankCall staged_call(const Layout& layout, int max_ctas, int rank, std::uint64_t epoch);

/// Checks the programs of one call of every rank (calls[rank]) against the rules in the file
/// comment; the first broken rule as one line, or nullopt.
std::optional<std::string> protocol_problem(const Layout& layout,
                                            const std::vector<RankCall>& calls,
                                            std::uint64_t epoch);

}  // namespace dcp::kernels::direct
