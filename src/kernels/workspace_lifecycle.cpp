#include "kernels/workspace_lifecycle.hpp"

#include <cuda_runtime_api.h>

#include <string>

#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "core/host_wait.hpp"
#include "core/watchdog.hpp"
#include "kernels/native_collective.hpp"

namespace dcp::kernels {

std::unique_ptr<fabric::Workspace> make_workspace(std::string_view who, WorkspaceKind kind,
                                                  const World* world, int cp_size, int local_ranks,
                                                  std::size_t segment_bytes) {
  std::unique_ptr<fabric::Workspace> ws;
  if (kind == WorkspaceKind::kSim) {
    DCP_CHECK(local_ranks == cp_size,
              fmt::format("{}: sim runs every rank in this process", who).c_str());
    ws = fabric::make_sim_workspace(cp_size, segment_bytes);
  } else {
    DCP_CHECK(world != nullptr, fmt::format("{}: a shared workspace needs the World", who).c_str());
    ws = fabric::make_shared_workspace(kind, *world, segment_bytes);
  }
  DCP_CHECK(ws->segment_bytes() >= segment_bytes && ws->cp_size() == cp_size,
            fmt::format("{}: the workspace is smaller than the layout needs", who).c_str());
  return ws;
}

bool reset_collectively(std::string_view who, const World* world, bool sim, double timeout_s,
                        bool needs_reset, fabric::Workspace& workspace) {
  ResetSteps steps;
  steps.vote = [&](bool mine) {
    return sim ? mine : world->any(mine, fmt::format("{}: workspace reset vote", who));
  };
  steps.drain = [&] {
    // Bounded: every device-side wait gives up after the case timeout; the watchdog ends the job
    // if a kernel hangs anyway.
    Watchdog::Token guard;
    if (world) {
      guard =
          world->guard(fmt::format("{}: draining exchange kernels before a workspace reset", who),
                       host_wait_s(timeout_s));
    }
    DCP_CUDA_CHECK(cudaDeviceSynchronize());
  };
  steps.barrier = [&](std::string_view what) {
    if (!sim) world->barrier(what);
  };
  // Workspace::reset() zeroes this process's segments and synchronises (outside sim it also
  // passes a barrier of its own; the sequence's second barrier is then a cheap repeat).
  steps.zero = [&] { workspace.reset(); };
  return collective_reset(needs_reset, steps);
}

}  // namespace dcp::kernels
