#pragma once
/// @file
/// The small GPU probes of `dcpbench diag`: the flag ping-pong (one-way latency), the signature
/// writer/checker (cross-rank visibility) and timed copies (bandwidth). Host launchers only; the
/// kernels stay inside probes.cu. No fmt here: probes.cu includes this header.
///
/// Every device-side wait is bounded: the spinning kernels read %globaltimer and give up at a
/// deadline, reporting the round where they stopped, and every host wait polls the stream
/// against a deadline (wait_bounded), so a dead link ends a probe with a timeout, never a hang.

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/cuda_raii.hpp"
#include "core/host_device.hpp"

namespace dcp::diag {

// ---- signatures ---------------------------------------------------------------------------------

/// Seed of the signature `writer` leaves for `reader` in run `nonce` (reader == writer: the
/// writer's own segment). Distinct for every (nonce, writer, reader).
DCP_HOST_DEVICE inline std::uint64_t signature_seed(std::uint64_t nonce, int writer, int reader) {
  return nonce * 0x9E3779B97F4A7C15ULL ^
         (static_cast<std::uint64_t>(static_cast<std::uint32_t>(writer)) << 32) ^
         static_cast<std::uint64_t>(static_cast<std::uint32_t>(reader)) ^ 0xD1A6D1A6ULL;
}

/// Word `i` of the signature with `seed` (a splitmix64 finaliser; never constant over i).
DCP_HOST_DEVICE inline std::uint32_t signature_word(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<std::uint32_t>(z ^ (z >> 32));
}

/// Result of checking one signature.
struct SignatureResult {
  std::uint64_t words = 0;
  std::uint64_t mismatches = 0;
  std::int64_t first_bad = -1;  ///< index of the first wrong word, -1 when none
  std::uint32_t expected = 0;   ///< at first_bad
  std::uint32_t actual = 0;     ///< at first_bad
};

/// Enqueues writing `words` 32-bit signature words with `seed` at `dst` (local or mapped peer
/// memory).
void write_signature(void* dst, std::size_t words, std::uint64_t seed, cudaStream_t stream);

/// Checks `words` signature words at `src` (local or mapped peer memory) on the device; waits
/// for the stream (bounded by `timeout_s`) and returns the outcome.
SignatureResult check_signature(const void* src, std::size_t words, std::uint64_t seed,
                                cudaStream_t stream, double timeout_s);

// ---- ping-pong ----------------------------------------------------------------------------------

/// Bytes between two flags (one flag per 128-byte line, so no two flags share a line).
inline constexpr std::size_t kFlagStrideBytes = 128;

enum class PingRole {
  kInitiator,  ///< writes round r, waits for the answer, times the round trip
  kResponder,  ///< waits for round r, answers it
};

/// What one side of a ping-pong saw.
struct PingPongOutcome {
  bool timed_out = false;
  int failed_round = -1;  ///< round (warm-up rounds included) at which the deadline hit
  /// Initiator only: one-way latency of every measured round (round trip / 2), seconds. Rounds
  /// are timed with clock64 and converted with the ratio of %globaltimer to clock64 over the
  /// whole measured loop, so per-round values have sub-timer-tick resolution.
  std::vector<double> one_way_s;
  double mean_one_way_s = 0;  ///< initiator: %globaltimer over the whole loop / rounds / 2
};

/// One side of a flag ping-pong between two single-thread kernels. Flags are 64-bit words; the
/// value of round r in epoch e is (e << 32) | (r + 1), so flags left from another measurement
/// (another epoch) never match. Both sides must use the same epoch, warm-up and rounds, and
/// both kernels must be resident at once (different GPUs, or different streams of one GPU).
class PingPongProbe {
 public:
  explicit PingPongProbe(int max_rounds);

  /// Enqueues the kernel on `stream`. `send`: the flag the other side polls (peer memory through
  /// the mapping, or local); `recv`: the flag this side polls (this GPU's memory). The kernel
  /// gives up `timeout_s` after it starts.
  void launch(PingRole role, std::uint64_t* send, const std::uint64_t* recv, std::uint32_t epoch,
              int warmup, int rounds, double timeout_s, cudaStream_t stream);

  /// Reads the outcome; the stream must have completed (wait_bounded).
  [[nodiscard]] PingPongOutcome collect() const;

 private:
  DeviceMemory cycles_;  ///< long long per measured round
  DeviceMemory result_;  ///< the kernel's result record
  int max_rounds_ = 0;
  int rounds_ = 0;
  PingRole role_ = PingRole::kInitiator;
};

// ---- copies and waits ---------------------------------------------------------------------------

/// Copy timing: `reps` cudaMemcpyAsync of `bytes` from `src` to `dst` (any two device addresses
/// the current device can reach) after `warmup` untimed ones, between two events on `stream`.
/// Returns the seconds of all `reps` copies. Bounded by `timeout_s`.
double time_copies(void* dst, const void* src, std::size_t bytes, int warmup, int reps,
                   cudaStream_t stream, double timeout_s);

/// Waits for `stream` by polling until `timeout_s` passed; throws TimeoutError naming `what`.
/// CUDA errors throw CudaError.
void wait_bounded(cudaStream_t stream, double timeout_s, const char* what);

}  // namespace dcp::diag
