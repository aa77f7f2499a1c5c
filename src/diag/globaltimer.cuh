#pragma once
// %globaltimer for the bounded spins of diag's probe kernels (.cu files only).

namespace dcp::diag {

/// Nanoseconds of the GPU's global timer.
__device__ __forceinline__ unsigned long long global_timer_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

/// Polls between two reads of the timer: reading %globaltimer costs more than a poll.
inline constexpr unsigned kPollsPerTimerRead = 256;

}  // namespace dcp::diag
