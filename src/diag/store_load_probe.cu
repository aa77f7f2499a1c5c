// The bounded store/load probe (store_load_probe.hpp).
#include "core/cuda_check.hpp"
#include "diag/globaltimer.cuh"
#include "diag/store_load_probe.hpp"

namespace dcp::diag {

namespace {

struct StoreLoadResult {
  int timed_out;
  int step;
  int load_checked;
  unsigned long long expected;
  unsigned long long loaded;
  unsigned long long ns;
};

constexpr int kStepResponderWait = 1;  // StoreLoadStep::kResponderWait
constexpr int kStepInitiatorWait = 2;  // StoreLoadStep::kInitiatorWait

/// Spins until *p == want or the deadline passes; returns false on timeout.
__device__ bool wait_for(const volatile unsigned long long* p, unsigned long long want,
                         unsigned long long deadline) {
  unsigned polls = 0;
  while (*p != want) {
    if (++polls % kPollsPerTimerRead == 0 && global_timer_ns() > deadline) return false;
  }
  return true;
}

__global__ void store_load_kernel(int initiator, volatile unsigned long long* remote,
                                  const volatile unsigned long long* local,
                                  unsigned long long token, unsigned long long timeout_ns,
                                  StoreLoadResult* out) {
  const unsigned long long start = global_timer_ns();
  const unsigned long long deadline = start + timeout_ns;
  StoreLoadResult r{0, 0, 0, 0, 0, 0};
  if (initiator) {
    remote[0] = token;
    __threadfence_system();
    r.loaded = remote[0];
    r.expected = token;
    r.load_checked = 1;
    if (!wait_for(local + 1, token + 1, deadline)) {
      r.timed_out = 1;
      r.step = kStepInitiatorWait;
    }
  } else {
    if (!wait_for(local, token, deadline)) {
      r.timed_out = 1;
      r.step = kStepResponderWait;
    } else {
      remote[1] = token + 1;
      __threadfence_system();
      r.loaded = remote[1];
      r.expected = token + 1;
      r.load_checked = 1;
    }
  }
  r.ns = global_timer_ns() - start;
  *out = r;
}

}  // namespace

StoreLoadProbe::StoreLoadProbe() : result_(sizeof(StoreLoadResult)) {}

void StoreLoadProbe::launch(bool initiator, std::uint64_t* remote_line,
                            const std::uint64_t* local_line, std::uint64_t token, double timeout_s,
                            cudaStream_t stream) {
  DCP_CUDA_CHECK(cudaMemsetAsync(result_.get(), 0, sizeof(StoreLoadResult), stream));
  const auto timeout_ns = static_cast<unsigned long long>(timeout_s * 1e9);
  store_load_kernel<<<1, 1, 0, stream>>>(
      initiator ? 1 : 0, reinterpret_cast<volatile unsigned long long*>(remote_line),
      reinterpret_cast<const volatile unsigned long long*>(local_line),
      static_cast<unsigned long long>(token), timeout_ns, result_.as<StoreLoadResult>());
  DCP_CUDA_CHECK_LAUNCH();
}

StoreLoadOutcome StoreLoadProbe::collect() const {
  StoreLoadResult r{};
  DCP_CUDA_CHECK(cudaMemcpy(&r, result_.get(), sizeof(r), cudaMemcpyDeviceToHost));
  StoreLoadOutcome o;
  o.timed_out = r.timed_out != 0;
  o.step = r.step;
  o.load_checked = r.load_checked != 0;
  o.expected = r.expected;
  o.loaded = r.loaded;
  o.seconds = static_cast<double>(r.ns) * 1e-9;
  return o;
}

}  // namespace dcp::diag
