#include "diag/groups/peer.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"
#include "diag/wire.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PeerFacts, from, to, peer_visible, peer_device, can_access,
                                   perf_rank, native_atomics, access_supported, error)

std::string encode(const std::vector<PeerFacts>& f) {
  return wire::encode(f);
}
void decode(std::string_view text, std::vector<PeerFacts>& out) {
  wire::decode(text, out, "peer facts");
}

namespace {

std::string yes_no(bool b) {
  return b ? "yes" : "no";
}

}  // namespace

std::vector<DiagCheck> peer_checks(const std::vector<RankFacts>& ranks,
                                   const std::vector<PeerFacts>& pairs) {
  if (ranks.size() < 2) return {single_rank_skip("peer", "peer_access")};
  std::vector<DiagCheck> out;
  for (const auto& p : pairs) {
    DiagCheck c = pair_row("peer", "peer_access", p.from, p.to);
    const RankFacts* a = find_rank(ranks, p.from);
    const RankFacts* b = find_rank(ranks, p.to);
    if (a == nullptr || b == nullptr) continue;
    if (auto why = pair_skip_reason(*a, *b, true)) {
      c.verdict = Verdict::kSkip;
      c.hint = a->host == b->host ? *why + ": there is no link between them" : *why;
    } else if (!p.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "reading the P2P attributes failed: " + p.error;
      c.remedy = "check the driver on this host (nvidia-smi topo -m must list both GPUs)";
    } else if (!p.peer_visible) {
      c.verdict = Verdict::kSkip;
      c.hint = fmt::format(
          "rank {}'s GPU {} is not visible in rank {}'s process (CUDA_VISIBLE_DEVICES={}): P2P "
          "attributes are read in-process; the ipc, visibility and latency checks test the path",
          b->rank, b->gpu_uuid, a->rank, a->cvd_set ? a->cvd : "(unset)");
    } else {
      c.value = fmt::format(
          "device {} -> {}: can access {}, performance rank {}, native atomics {}, access "
          "supported {}",
          a->device, p.peer_device, yes_no(p.can_access != 0), p.perf_rank,
          yes_no(p.native_atomics != 0), yes_no(p.access_supported != 0));
      if (p.can_access == 0 || p.access_supported == 0) {
        c.verdict = Verdict::kFail;
        c.hint = fmt::format(
            "no peer access from {} to {} (cudaDeviceCanAccessPeer = {}, access supported = {}): "
            "the native exchange writes into the peer's memory directly; check `nvidia-smi topo "
            "-m` (NVLink or a P2P-capable PCIe switch), and that no VM/IOMMU setting blocks P2P",
            a->gpu_uuid, b->gpu_uuid, p.can_access, p.access_supported);
        c.remedy =
            "run the ranks on GPUs joined by NVLink or one PCIe switch (nvidia-smi topo -m: NV# "
            "or PIX); in a VM enable P2P for the passed-through GPUs; see the pcie group for ACS "
            "and IOMMU settings that block P2P";
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dcp::diag
