// Check group `peer`, measured: cudaDeviceCanAccessPeer and the P2P attributes towards every
// same-host peer whose GPU is visible in this process.
#include <cuda_runtime_api.h>

#include <algorithm>

#include "core/cuda_check.hpp"
#include "core/error.hpp"
#include "diag/context.hpp"
#include "diag/groups/peer.hpp"
#include "diag/registry.hpp"
#include "diag/rules.hpp"

namespace dcp::diag {

namespace {

class PeerGroup final : public CheckGroup {
 public:
  PeerGroup() : CheckGroup(kPeerGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    std::vector<PeerFacts> mine;
    const RankFacts& a = ctx.rank(ctx.me());
    for (int p = 0; p < ctx.size() && ctx.size() > 1; ++p) {
      if (p == ctx.me()) continue;
      PeerFacts f;
      f.from = ctx.me();
      f.to = p;
      const RankFacts& b = ctx.rank(p);
      if (!pair_skip_reason(a, b, true)) {
        const auto it = std::find(a.visible_uuids.begin(), a.visible_uuids.end(), b.gpu_uuid);
        if (it != a.visible_uuids.end()) {
          f.peer_visible = true;
          f.peer_device = static_cast<int>(it - a.visible_uuids.begin());
          try {
            const int dev = ctx.device();
            DCP_CUDA_CHECK(cudaDeviceCanAccessPeer(&f.can_access, dev, f.peer_device));
            DCP_CUDA_CHECK(cudaDeviceGetP2PAttribute(&f.perf_rank, cudaDevP2PAttrPerformanceRank,
                                                     dev, f.peer_device));
            DCP_CUDA_CHECK(cudaDeviceGetP2PAttribute(
                &f.native_atomics, cudaDevP2PAttrNativeAtomicSupported, dev, f.peer_device));
            DCP_CUDA_CHECK(cudaDeviceGetP2PAttribute(
                &f.access_supported, cudaDevP2PAttrAccessSupported, dev, f.peer_device));
          } catch (const CudaError& e) {
            f.error = e.what();
          }
        }
      }
      mine.push_back(std::move(f));
    }
    append_rows(report, peer_checks(ctx.ranks(), ctx.gather_flat(mine, "diag peer facts")));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_peer_group() {
  return std::make_unique<PeerGroup>();
}

}  // namespace dcp::diag
