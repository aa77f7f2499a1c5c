#pragma once
// The device side of a sim-mode ExchangeSetup, shared by the GPU tests' harnesses
// (native_sim_harness.hpp, reduce_sim_harness.hpp, direct_sim_harness.hpp): one stream per
// simulated rank and `ring` buffer sets of the case's four tensors, sized for its op as the
// runner sizes them (bench::TensorBytes::of), each + 256 bytes so that E = 0 still gets distinct
// non-null pointers. Owns the streams and the memory the setup points at.

#include <optional>
#include <vector>

#include "bench/buffer_ring.hpp"
#include "core/case.hpp"
#include "core/cuda_raii.hpp"
#include "core/fault.hpp"
#include "core/impl.hpp"

namespace dcp::testing {

class SimSetup {
 public:
  SimSetup(const Case& c, int ring, double timeout_s, std::optional<FaultInjection> inject) {
    const bench::TensorBytes t = bench::TensorBytes::of(c);
    const int cp = c.cp_size;
    for (int r = 0; r < cp; ++r)
      streams_.emplace_back();
    setup.c = c;
    setup.first_rank = 0;
    setup.local_ranks = cp;
    setup.timeout_s = timeout_s;
    setup.inject = inject;
    for (int k = 0; k < ring; ++k) {
      BufferSet set;
      for (int r = 0; r < cp; ++r) {
        mem_.emplace_back(t.in_o + 256);
        mem_.emplace_back(t.in_stats + 256);
        mem_.emplace_back(t.out_o + 256);
        mem_.emplace_back(t.out_stats + 256);
        const std::size_t n = mem_.size();
        set.ranks.push_back(RankBuffers{mem_[n - 4].get(), mem_[n - 3].get(), mem_[n - 2].get(),
                                        mem_[n - 1].get()});
      }
      setup.ring.push_back(set);
    }
    for (const Stream& s : streams_)
      setup.streams.push_back(s.get());
  }
  SimSetup(const SimSetup&) = delete;
  SimSetup& operator=(const SimSetup&) = delete;

  ExchangeSetup setup;

 private:
  std::vector<Stream> streams_;
  std::vector<DeviceMemory> mem_;
};

}  // namespace dcp::testing
