#include "baseline/nccl_baseline.hpp"

#include "baseline/nccl_context.hpp"

namespace dcp::baseline {

std::shared_ptr<NcclContext> make_nccl_context(const World& world) {
  return std::make_shared<NcclContext>(NcclBootstrap::from_world(world));
}

std::shared_ptr<NcclContext> make_single_rank_nccl_context(double timeout_s) {
  return std::make_shared<NcclContext>(NcclBootstrap::single_process(timeout_s));
}

}  // namespace dcp::baseline
