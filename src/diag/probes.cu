// The GPU probes of `dcpbench diag`: flag ping-pong, signatures, timed copies.
#include "diag/probes.hpp"

#include <chrono>
#include <string>
#include <thread>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "diag/globaltimer.cuh"

namespace dcp::diag {

namespace {

struct PingPongResult {
  int timed_out;
  int failed_round;
  unsigned long long start_ns;  ///< %globaltimer at the first measured round
  unsigned long long end_ns;    ///< %globaltimer after the last one
  long long start_cycles;       ///< clock64 at the same two points
  long long end_cycles;
};

struct SignatureAccumulator {
  unsigned long long mismatches;
  unsigned long long first_bad;  ///< min index of a wrong word; ~0 when none
};

// ---- ping-pong ----------------------------------------------------------------------------------
// One thread. Round r: the initiator stores tag(r) into `send` (the responder's memory) and spins
// on `recv` until it reads tag(r); the responder spins on its `recv` until tag(r) arrives and
// then stores tag(r) into its `send` (the initiator's memory). Volatile accesses: every poll
// reads memory (L2 of the owning GPU), every store leaves at once. No fence is needed: a flag
// carries no other data.
__global__ void ping_pong_kernel(int initiator, volatile unsigned long long* send,
                                 const volatile unsigned long long* recv, unsigned epoch,
                                 int warmup, int rounds, unsigned long long timeout_ns,
                                 long long* cycles, PingPongResult* out) {
  const unsigned long long deadline = global_timer_ns() + timeout_ns;
  PingPongResult res{0, -1, 0, 0, 0, 0};
  const int total = warmup + rounds;
  for (int r = 0; r < total; ++r) {
    const unsigned long long tag =
        (static_cast<unsigned long long>(epoch) << 32) | static_cast<unsigned long long>(r + 1);
    if (initiator && r == warmup) {
      res.start_ns = global_timer_ns();
      res.start_cycles = clock64();
    }
    const long long begin = clock64();
    if (initiator) *send = tag;
    unsigned polls = 0;
    while (*recv != tag) {
      if (++polls % kPollsPerTimerRead == 0 && global_timer_ns() > deadline) {
        res.timed_out = 1;
        res.failed_round = r;
        *out = res;
        return;
      }
    }
    if (!initiator) *send = tag;
    if (initiator && r >= warmup) cycles[r - warmup] = clock64() - begin;
  }
  if (initiator) {
    res.end_ns = global_timer_ns();
    res.end_cycles = clock64();
  }
  *out = res;
}

// ---- signatures ---------------------------------------------------------------------------------
__global__ void write_signature_kernel(std::uint32_t* dst, std::size_t words, std::uint64_t seed) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < words;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    dst[i] = signature_word(seed, i);
  }
}

__global__ void check_signature_kernel(const volatile std::uint32_t* src, std::size_t words,
                                       std::uint64_t seed, SignatureAccumulator* acc) {
  unsigned long long bad = 0;
  unsigned long long first = ~0ULL;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < words;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    if (src[i] != signature_word(seed, i)) {
      ++bad;
      if (i < first) first = i;
    }
  }
  if (bad != 0) {
    atomicAdd(&acc->mismatches, bad);
    atomicMin(&acc->first_bad, first);
  }
}

constexpr int kSignatureBlocks = 32;
constexpr int kSignatureThreads = 256;

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

void wait_bounded(cudaStream_t stream, double timeout_s, const char* what) {
  const auto start = std::chrono::steady_clock::now();
  auto pause = std::chrono::microseconds(5);
  for (;;) {
    const cudaError_t e = cudaStreamQuery(stream);
    if (e == cudaSuccess) return;
    if (e != cudaErrorNotReady) DCP_CUDA_CHECK(e);
    if (seconds_between(start, std::chrono::steady_clock::now()) > timeout_s) {
      throw TimeoutError(std::string("diag: ") + what + " did not finish within " +
                         std::to_string(timeout_s) + " s (the GPU did not complete the probe)");
    }
    std::this_thread::sleep_for(pause);
    if (pause < std::chrono::microseconds(1000)) pause *= 2;
  }
}

// ---- signatures ---------------------------------------------------------------------------------

void write_signature(void* dst, std::size_t words, std::uint64_t seed, cudaStream_t stream) {
  write_signature_kernel<<<kSignatureBlocks, kSignatureThreads, 0, stream>>>(
      static_cast<std::uint32_t*>(dst), words, seed);
  DCP_CUDA_CHECK_LAUNCH();
}

SignatureResult check_signature(const void* src, std::size_t words, std::uint64_t seed,
                                cudaStream_t stream, double timeout_s) {
  DeviceMemory acc(sizeof(SignatureAccumulator));
  const SignatureAccumulator init{0, ~0ULL};
  DCP_CUDA_CHECK(cudaMemcpyAsync(acc.get(), &init, sizeof(init), cudaMemcpyHostToDevice, stream));
  check_signature_kernel<<<kSignatureBlocks, kSignatureThreads, 0, stream>>>(
      static_cast<const volatile std::uint32_t*>(src), words, seed, acc.as<SignatureAccumulator>());
  DCP_CUDA_CHECK_LAUNCH();
  SignatureAccumulator host{};
  DCP_CUDA_CHECK(cudaMemcpyAsync(&host, acc.get(), sizeof(host), cudaMemcpyDeviceToHost, stream));
  wait_bounded(stream, timeout_s, "the signature check");
  SignatureResult r;
  r.words = words;
  r.mismatches = host.mismatches;
  if (host.mismatches != 0 && host.first_bad < words) {
    r.first_bad = static_cast<std::int64_t>(host.first_bad);
    r.expected = signature_word(seed, host.first_bad);
    std::uint32_t actual = 0;
    DCP_CUDA_CHECK(cudaMemcpyAsync(&actual, static_cast<const std::uint32_t*>(src) + host.first_bad,
                                   sizeof(actual), cudaMemcpyDefault, stream));
    wait_bounded(stream, timeout_s, "reading the first wrong signature word");
    r.actual = actual;
  }
  return r;
}

// ---- ping-pong ----------------------------------------------------------------------------------

PingPongProbe::PingPongProbe(int max_rounds)
    : cycles_(sizeof(long long) * static_cast<std::size_t>(max_rounds > 0 ? max_rounds : 1)),
      result_(sizeof(PingPongResult)),
      max_rounds_(max_rounds) {}

void PingPongProbe::launch(PingRole role, std::uint64_t* send, const std::uint64_t* recv,
                           std::uint32_t epoch, int warmup, int rounds, double timeout_s,
                           cudaStream_t stream) {
  if (rounds < 1 || rounds > max_rounds_ || warmup < 0) {
    throw Error("diag: ping-pong rounds " + std::to_string(rounds) + " out of [1, " +
                std::to_string(max_rounds_) + "]");
  }
  role_ = role;
  rounds_ = rounds;
  DCP_CUDA_CHECK(cudaMemsetAsync(result_.get(), 0, sizeof(PingPongResult), stream));
  const auto timeout_ns = static_cast<unsigned long long>(timeout_s * 1e9);
  ping_pong_kernel<<<1, 1, 0, stream>>>(
      role == PingRole::kInitiator ? 1 : 0, reinterpret_cast<volatile unsigned long long*>(send),
      reinterpret_cast<const volatile unsigned long long*>(recv), epoch, warmup, rounds, timeout_ns,
      cycles_.as<long long>(), result_.as<PingPongResult>());
  DCP_CUDA_CHECK_LAUNCH();
}

PingPongOutcome PingPongProbe::collect() const {
  PingPongResult res{};
  DCP_CUDA_CHECK(cudaMemcpy(&res, result_.get(), sizeof(res), cudaMemcpyDeviceToHost));
  PingPongOutcome out;
  out.timed_out = res.timed_out != 0;
  out.failed_round = res.failed_round;
  if (out.timed_out || role_ != PingRole::kInitiator) return out;
  std::vector<long long> cycles(static_cast<std::size_t>(rounds_));
  DCP_CUDA_CHECK(cudaMemcpy(cycles.data(), cycles_.get(), sizeof(long long) * cycles.size(),
                            cudaMemcpyDeviceToHost));
  const double ns = static_cast<double>(res.end_ns - res.start_ns);
  const double cyc = static_cast<double>(res.end_cycles - res.start_cycles);
  out.mean_one_way_s = ns * 1e-9 / rounds_ / 2.0;
  const double ns_per_cycle = cyc > 0 ? ns / cyc : 0.0;
  out.one_way_s.reserve(cycles.size());
  for (long long c : cycles)
    out.one_way_s.push_back(static_cast<double>(c) * ns_per_cycle * 1e-9 / 2.0);
  return out;
}

// ---- copies -------------------------------------------------------------------------------------

double time_copies(void* dst, const void* src, std::size_t bytes, int warmup, int reps,
                   cudaStream_t stream, double timeout_s) {
  for (int i = 0; i < warmup; ++i)
    DCP_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream));
  Event start, stop;
  start.record(stream);
  for (int i = 0; i < reps; ++i)
    DCP_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream));
  stop.record(stream);
  wait_bounded(stream, timeout_s, "the timed copies");
  return stop.seconds_since(start);
}

}  // namespace dcp::diag
