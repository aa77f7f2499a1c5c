#include "baseline/nccl_baseline.hpp"

#include <fmt/format.h>

#include "baseline/nccl_alltoall.hpp"
#include "baseline/nccl_context.hpp"
#include "baseline/nccl_device.hpp"
#include "core/error.hpp"
#include "core/impl_names.hpp"

namespace dcp::baseline {

std::shared_ptr<NcclContext> make_nccl_context(const World& world) {
  return std::make_shared<NcclContext>(NcclBootstrap::from_world(world));
}

std::shared_ptr<NcclContext> make_single_rank_nccl_context(double timeout_s) {
  return std::make_shared<NcclContext>(NcclBootstrap::single_process(timeout_s));
}

bool is_nccl_impl(std::string_view name) {
  return name == kImplNccl2x || name == kImplNcclFused || name == kImplNcclDevice ||
         name == kImplNccl1x;
}

std::unique_ptr<AllToAllImpl> make_nccl_alltoall(std::string_view name,
                                                 std::shared_ptr<NcclContext> ctx) {
  if (!ctx) throw Error("make_nccl_alltoall: no NCCL context");
  if (name == kImplNccl2x) {
    return std::make_unique<NcclHostAllToAll>(std::move(ctx), HostPath::kTwoAllToAll);
  }
  if (name == kImplNcclFused) {
    return std::make_unique<NcclHostAllToAll>(std::move(ctx), HostPath::kFused);
  }
  if (name == kImplNccl1x) {
    return std::make_unique<NcclHostAllToAll>(std::move(ctx), HostPath::kOneAllToAll);
  }
  if (name == kImplNcclDevice) return std::make_unique<NcclDeviceAllToAll>(std::move(ctx));
  throw ConfigError(fmt::format("impl '{}' is not an NCCL baseline (accepted: {}|{}|{}|{})", name,
                                kImplNccl2x, kImplNcclFused, kImplNcclDevice, kImplNccl1x));
}

}  // namespace dcp::baseline
