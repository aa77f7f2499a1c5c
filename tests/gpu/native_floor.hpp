#pragma once
/// @file
/// Floor kernels for native_sim_bench: what an exchange costs at the least, measured the same way
/// as the exchange (one kernel per simulated rank and call, PDL, CUDA graph).
///  - empty: every CTA waits for the previous grid (griddepcontrol.wait), triggers the dependent
///    launch and exits: the launch + PDL chain of a grid of the given size.
///  - ping: one warp per rank writes a sequence number to every peer's mailbox and polls its own
///    mailbox until every peer's number arrived: launch + one flag hop between the ranks, the
///    smallest possible exchange (no payload).

#include <cuda_runtime_api.h>

#include <cstdint>

namespace dcp::testing {

/// Enqueues an empty PDL kernel of `ctas` CTAs x `threads` threads.
void launch_floor_empty(int ctas, int threads, cudaStream_t stream, bool pdl);

/// Enqueues one rank's ping. `mailbox` holds cp x cp u64 (row = receiver), `counters` cp u64,
/// both zeroed before the first call and shared by all ranks; every rank of a call must be
/// launched. Bounded: a wait gives up after `timeout_ns` and sets *failed to 1.
void launch_floor_ping(std::uint64_t* mailbox, std::uint64_t* counters, int rank, int cp,
                       std::uint64_t timeout_ns, int* failed, cudaStream_t stream, bool pdl);

}  // namespace dcp::testing
