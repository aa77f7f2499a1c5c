// The ll128_order probe's kernels (ll128_probe.hpp).
#include <string>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "diag/globaltimer.cuh"
#include "diag/ll128_probe.hpp"

namespace dcp::diag {

namespace {

using ll128probe::FlagLayout;

struct WriterResult {
  unsigned long long lines;
  int timed_out;
  unsigned long long stalled_at;
  unsigned long long ns;
};

struct ReaderResult {
  unsigned long long lines;
  unsigned long long torn_single;
  unsigned long long torn_after;
  long long first_torn;
  int timed_out;
  unsigned long long stalled_at;
  unsigned long long ns;
};

constexpr unsigned kFullMask = 0xFFFFFFFFu;

__device__ __forceinline__ void store16(std::uint64_t* p, std::uint64_t a, std::uint64_t b) {
  asm volatile("st.volatile.global.v2.u64 [%0], {%1, %2};" ::"l"(p), "l"(a), "l"(b) : "memory");
}

__device__ __forceinline__ void load16(const std::uint64_t* p, std::uint64_t& a, std::uint64_t& b) {
  asm volatile("ld.volatile.global.v2.u64 {%0, %1}, [%2];" : "=l"(a), "=l"(b) : "l"(p) : "memory");
}

__device__ __forceinline__ std::uint64_t load8(const std::uint64_t* p) {
  std::uint64_t v;
  asm volatile("ld.volatile.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ void store8(std::uint64_t* p, std::uint64_t v) {
  asm volatile("st.volatile.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

/// Lane l handles 16-byte chunk l % 8 of line l / 8 of the 4 lines of one warp access.
__device__ __forceinline__ std::uint64_t* chunk_ptr(void* ring, std::uint32_t slot, int chunk) {
  return static_cast<std::uint64_t*>(ring) +
         static_cast<std::size_t>(slot) * ll128probe::kLineWords +
         ll128probe::kWordsPerLane * chunk;
}

__global__ void ll128_writer_kernel(void* ring, const std::uint64_t* credit, Ll128ProbeParams p,
                                    unsigned long long timeout_ns, WriterResult* out) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int line_in = lane / ll128probe::kLanesPerLine;
  const int chunk = lane % ll128probe::kLanesPerLine;
  const unsigned long long start = global_timer_ns();
  const std::uint64_t epoch_tag = ll128_credit(p.epoch, 0);
  std::uint64_t granted = p.ring_lines;  // lines the writer may have written so far
  WriterResult r{0, 0, 0, 0};
  for (std::uint64_t g0 = 0; g0 < p.lines; g0 += ll128probe::kLinesPerWarpStore) {
    if (g0 + ll128probe::kLinesPerWarpStore > granted) {
      // Wait for credit (lane 0 polls its own memory, the warp follows).
      int timed_out = 0;
      if (lane == 0) {
        unsigned polls = 0;
        unsigned long long stall_start = 0;
        while (true) {
          const std::uint64_t c = load8(credit);
          if ((c & ~((1ULL << 40) - 1)) == epoch_tag) {
            const std::uint64_t done = c & ((1ULL << 40) - 1);
            if (g0 + ll128probe::kLinesPerWarpStore <= done + p.ring_lines) {
              granted = done + p.ring_lines;
              break;
            }
          }
          if (++polls % kPollsPerTimerRead == 0) {
            const unsigned long long now = global_timer_ns();
            if (stall_start == 0) {
              stall_start = now;
            } else if (now - stall_start > timeout_ns) {
              timed_out = 1;
              break;
            }
          }
        }
      }
      granted = __shfl_sync(kFullMask, granted, 0);
      timed_out = __shfl_sync(kFullMask, timed_out, 0);
      if (timed_out) {
        r.timed_out = 1;
        r.stalled_at = g0;
        break;
      }
    }
    const std::uint64_t g = g0 + static_cast<std::uint64_t>(line_in);
    const std::uint32_t slot = ll128probe::slot_of(g, p.ring_lines);
    const int w = ll128probe::kWordsPerLane * chunk;
    const std::uint64_t a =
        ll128probe::writer_word(p.layout, p.epoch, p.ring_lines, g, w, p.inject_every);
    const std::uint64_t b =
        ll128probe::writer_word(p.layout, p.epoch, p.ring_lines, g, w + 1, p.inject_every);
    store16(chunk_ptr(ring, slot, chunk), a, b);  // one warp store: 4 lines
    r.lines = g0 + ll128probe::kLinesPerWarpStore;
  }
  r.ns = global_timer_ns() - start;
  if (lane == 0) *out = r;
}

__global__ void ll128_reader_kernel(const void* ring, std::uint64_t* credit, Ll128ProbeParams p,
                                    unsigned long long timeout_ns, ReaderResult* out) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int line_in = lane / ll128probe::kLanesPerLine;
  const int chunk = lane % ll128probe::kLanesPerLine;
  const int base = line_in * ll128probe::kLanesPerLine;  // first lane of this lane's line
  const int fw = ll128probe::flag_word(p.layout);
  const int flag_lane = fw / ll128probe::kWordsPerLane;  // within the line's 8 lanes
  const bool flag_hi = fw % ll128probe::kWordsPerLane != 0;
  const unsigned long long start = global_timer_ns();
  ReaderResult r{0, 0, 0, -1, 0, 0, 0};
  void* ring_rw = const_cast<void*>(ring);
  for (std::uint64_t g0 = 0; g0 < p.lines; g0 += ll128probe::kLinesPerWarpStore) {
    const std::uint64_t g = g0 + static_cast<std::uint64_t>(line_in);
    const std::uint32_t slot = ll128probe::slot_of(g, p.ring_lines);
    const std::uint64_t round = ll128probe::round_of(g, p.ring_lines);
    const std::uint64_t want_flag = ll128probe::flag_value(p.epoch, round);
    const std::uint64_t* ptr = chunk_ptr(ring_rw, slot, chunk);
    bool done = false;
    bool torn_first = false;
    unsigned polls = 0;
    unsigned long long stall_start = 0;
    int timed_out = 0;
    while (true) {
      std::uint64_t a;
      std::uint64_t b;
      load16(ptr, a, b);
      const bool has_flag = chunk == flag_lane && (flag_hi ? b : a) == want_flag;
      const bool ok = ll128probe::chunk_payload_ok(a, b, chunk, p.layout, p.epoch, round, slot);
      const unsigned bad = __ballot_sync(kFullMask, !ok);
      const unsigned flags = __ballot_sync(kFullMask, has_flag);
      const bool matched = ((flags >> (base + flag_lane)) & 1u) != 0;
      if (matched && !done) {
        torn_first = ((bad >> base) & 0xFFu) != 0;  // the load that first showed the flag
        done = true;
      }
      if (__all_sync(kFullMask, done)) break;
      if (++polls % kPollsPerTimerRead == 0) {
        const unsigned long long now = global_timer_ns();
        if (stall_start == 0) {
          stall_start = now;
        } else if (now - stall_start > timeout_ns) {
          timed_out = 1;
        }
      }
      if (__any_sync(kFullMask, timed_out != 0)) {
        timed_out = 1;
        break;
      }
    }
    if (timed_out) {
      r.timed_out = 1;
      r.stalled_at = g0;
      break;
    }
    // Read after flag: a load issued after every flag of the 4 lines matched.
    std::uint64_t a2;
    std::uint64_t b2;
    load16(ptr, a2, b2);
    const bool ok2 = ll128probe::chunk_payload_ok(a2, b2, chunk, p.layout, p.epoch, round, slot);
    const unsigned bad2 = __ballot_sync(kFullMask, !ok2);
    const unsigned first = __ballot_sync(kFullMask, torn_first);
    if (lane == 0) {
      for (int k = 0; k < ll128probe::kLinesPerWarpStore; ++k) {
        const bool t1 = ((first >> (k * ll128probe::kLanesPerLine)) & 1u) != 0;
        const bool t2 = ((bad2 >> (k * ll128probe::kLanesPerLine)) & 0xFFu) != 0;
        if (t1) ++r.torn_single;
        if (t2) ++r.torn_after;
        if ((t1 || t2) && r.first_torn < 0) r.first_torn = static_cast<long long>(g0 + k);
      }
    }
    r.lines = g0 + ll128probe::kLinesPerWarpStore;
    if (r.lines % p.credit_every == 0 || r.lines == p.lines) {
      __syncwarp();
      if (lane == 0) {
        __threadfence_system();  // every load of the finished lines precedes the credit
        store8(credit, ll128_credit(p.epoch, r.lines));
      }
    }
  }
  r.ns = global_timer_ns() - start;
  if (lane == 0) *out = r;
}

constexpr int kWarp = 32;

}  // namespace

void validate_ll128_params(const Ll128ProbeParams& p) {
  const auto bad = [](const std::string& what) { throw Error("diag ll128_order probe: " + what); };
  if (p.lines == 0 || p.lines % ll128probe::kLinesPerWarpStore != 0) {
    bad("lines must be a positive multiple of 4, got " + std::to_string(p.lines));
  }
  if (p.lines >= (1ULL << 40)) bad("lines must be below 2^40");
  if (p.ring_lines == 0 || p.ring_lines % ll128probe::kLinesPerWarpStore != 0) {
    bad("ring_lines must be a positive multiple of 4, got " + std::to_string(p.ring_lines));
  }
  if (p.credit_every == 0 || p.credit_every % ll128probe::kLinesPerWarpStore != 0 ||
      p.ring_lines % p.credit_every != 0 || p.credit_every > p.ring_lines) {
    bad("credit_every must be a multiple of 4 dividing ring_lines, got " +
        std::to_string(p.credit_every));
  }
  if (!(p.timeout_s > 0)) bad("timeout_s must be positive");
}

Ll128Probe::Ll128Probe()
    : writer_result_(sizeof(WriterResult)), reader_result_(sizeof(ReaderResult)) {
  // Load both kernels now. Under CUDA's lazy module loading (the default since CUDA 12.2) the
  // first launch of a kernel loads it, and that load waits for work already running on the
  // device: a writer launched while the reader spins would start only after the reader timed
  // out. Seen on an H200 (2026-12-05, diag_ll128_gpu_test): 0 lines read, 10 s of timeouts.
  cudaFuncAttributes attr{};
  DCP_CUDA_CHECK(cudaFuncGetAttributes(&attr, ll128_writer_kernel));
  DCP_CUDA_CHECK(cudaFuncGetAttributes(&attr, ll128_reader_kernel));
}

void Ll128Probe::launch_writer(void* ring, const std::uint64_t* credit, const Ll128ProbeParams& p,
                               cudaStream_t stream) {
  validate_ll128_params(p);
  DCP_CUDA_CHECK(cudaMemsetAsync(writer_result_.get(), 0, sizeof(WriterResult), stream));
  const auto timeout_ns = static_cast<unsigned long long>(p.timeout_s * 1e9);
  ll128_writer_kernel<<<1, kWarp, 0, stream>>>(ring, credit, p, timeout_ns,
                                               writer_result_.as<WriterResult>());
  DCP_CUDA_CHECK_LAUNCH();
}

void Ll128Probe::launch_reader(const void* ring, std::uint64_t* credit, const Ll128ProbeParams& p,
                               cudaStream_t stream) {
  validate_ll128_params(p);
  DCP_CUDA_CHECK(cudaMemsetAsync(reader_result_.get(), 0, sizeof(ReaderResult), stream));
  const auto timeout_ns = static_cast<unsigned long long>(p.timeout_s * 1e9);
  ll128_reader_kernel<<<1, kWarp, 0, stream>>>(ring, credit, p, timeout_ns,
                                               reader_result_.as<ReaderResult>());
  DCP_CUDA_CHECK_LAUNCH();
}

Ll128WriterOutcome Ll128Probe::writer_outcome() const {
  WriterResult r{};
  DCP_CUDA_CHECK(cudaMemcpy(&r, writer_result_.get(), sizeof(r), cudaMemcpyDeviceToHost));
  Ll128WriterOutcome o;
  o.lines = r.lines;
  o.timed_out = r.timed_out != 0;
  o.stalled_at_line = r.stalled_at;
  o.seconds = static_cast<double>(r.ns) * 1e-9;
  return o;
}

Ll128ReaderOutcome Ll128Probe::reader_outcome() const {
  ReaderResult r{};
  DCP_CUDA_CHECK(cudaMemcpy(&r, reader_result_.get(), sizeof(r), cudaMemcpyDeviceToHost));
  Ll128ReaderOutcome o;
  o.lines = r.lines;
  o.torn_single = r.torn_single;
  o.torn_after_flag = r.torn_after;
  o.first_torn_line = r.first_torn;
  o.timed_out = r.timed_out != 0;
  o.stalled_at_line = r.stalled_at;
  o.seconds = static_cast<double>(r.ns) * 1e-9;
  return o;
}

}  // namespace dcp::diag
