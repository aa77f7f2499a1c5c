#include "diag/plan.hpp"

namespace dcp::diag {

ProbeSizes probe_sizes(bool quick, std::optional<std::uint64_t> ll128_lines) {
  ProbeSizes s;
  s.latency_warmup = quick ? 50 : 200;
  s.latency_rounds = quick ? 1000 : 10000;
  s.copy_bytes = quick ? (std::size_t{32} << 20) : (std::size_t{256} << 20);
  s.copy_warmup = 2;
  s.copy_reps = quick ? 5 : 10;
  s.smoke_iters = quick ? 5 : 20;
  const std::uint64_t lines = ll128_lines.value_or(quick ? kLl128QuickLines : kLl128DefaultLines);
  s.ll128_lines = (lines + 3) / 4 * 4;
  return s;
}

}  // namespace dcp::diag
