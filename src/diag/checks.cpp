#include "diag/checks.hpp"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "diag/groups.hpp"
#include "diag/groups/fabric.hpp"
#include "diag/registry.hpp"
#include "diag/rules.hpp"

namespace dcp::diag {

namespace {

DiagDevice not_ready(cudaError_t e) {
  (void)cudaGetLastError();
  DiagDevice d;
  d.cuda_error = static_cast<int>(e);
  d.cuda_error_name = cudaGetErrorName(e);
  d.cuda_error_text = cudaGetErrorString(e);
  return d;
}

}  // namespace

DiagDevice select_diag_device(const World& world, bool gpu_needed) {
  int count = 0;
  const cudaError_t first = cudaGetDeviceCount(&count);
  if (first == cudaErrorSystemNotReady) return not_ready(first);
  if (!gpu_needed && (is_no_device_error(first) || (first == cudaSuccess && count == 0))) {
    return not_ready(first == cudaSuccess ? cudaErrorNoDevice : first);
  }
  (void)cudaGetLastError();
  count = require_cuda_devices();  // throws "no CUDA device" (exit 3) as before
  DiagDevice d;
  d.device = world.local_rank() % count;
  if (const cudaError_t e = cudaSetDevice(d.device); e == cudaErrorSystemNotReady) {
    return not_ready(e);
  } else {
    DCP_CUDA_CHECK(e);
  }
  // Create the context now, not inside the first check.
  if (const cudaError_t e = cudaFree(nullptr); e == cudaErrorSystemNotReady) {
    return not_ready(e);
  } else {
    DCP_CUDA_CHECK(e);
  }
  d.cuda_ready = true;
  return d;
}

DiagReport run_checks(const DiagPlan& plan, World& world, const DiagDevice& device,
                      const DiagEnvironment& env) {
  Context ctx(plan, world, device, env);
  DiagReport report;
  report.options.quick = plan.quick;
  report.options.timeout_s = plan.timeout_s;
  report.options.groups = plan.groups;
  const bool cuda = ctx.cuda_ready_everywhere();
  for (const auto& group : make_check_groups()) {
    if (std::find(plan.groups.begin(), plan.groups.end(), group->name()) == plan.groups.end()) {
      continue;
    }
    world.barrier(fmt::format("diag: start of {}", group->name()));
    if (group->info().needs_gpu && !cuda) {
      report.checks.push_back(cuda_not_ready_skip(group->name(), ctx.ranks()));
      continue;
    }
    group->run(ctx, report);
  }
  apply_fabric_fallback(report.checks, ctx.ranks());
  report.summary = summarize(report.checks);
  ctx.mapping().release();
  world.barrier("diag: end");
  return report;
}

}  // namespace dcp::diag
