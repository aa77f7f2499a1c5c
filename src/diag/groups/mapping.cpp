#include "diag/groups/mapping.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"

namespace dcp::diag {

std::vector<DiagCheck> mapping_checks(const std::vector<RankFacts>& ranks) {
  std::vector<DiagCheck> out;
  for (const auto& r : ranks) {
    DiagCheck c = rank_row("mapping", "gpu_mapping", r.rank);
    c.value = fmt::format(
        "host {}, local rank {} -> device {} of {} visible, {}, "
        "CUDA_VISIBLE_DEVICES={}",
        r.host, r.local_rank, r.device, r.visible_devices, r.gpu_uuid,
        r.cvd_set ? (r.cvd.empty() ? "\"\"" : r.cvd) : "(unset)");
    std::vector<int> sharing;
    for (const auto& o : ranks) {
      if (o.host == r.host && !r.gpu_uuid.empty() && o.gpu_uuid == r.gpu_uuid) {
        sharing.push_back(o.rank);
      }
    }
    if (sharing.size() > 1) {
      c.verdict = Verdict::kFail;
      c.hint = fmt::format(
          "two ranks on one GPU: ranks {} on host {} all use {} (device {}); run one rank per "
          "GPU: -np at most the GPUs of the host, or a distinct CUDA_VISIBLE_DEVICES per rank",
          format_ranks(sharing), r.host, r.gpu_uuid, r.device);
      c.remedy = fmt::format(
          "start at most as many ranks on host {} as it has GPUs (mpirun -np N with N = the "
          "GPUs listed by nvidia-smi -L), and do not give two ranks the same CUDA_VISIBLE_DEVICES",
          r.host);
    } else {
      c.verdict = Verdict::kPass;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dcp::diag
