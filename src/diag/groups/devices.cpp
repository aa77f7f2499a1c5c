#include "diag/groups/devices.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"

namespace dcp::diag {

std::vector<DiagCheck> device_checks(const std::vector<RankFacts>& ranks) {
  std::vector<DiagCheck> out;
  for (const auto& r : ranks) {
    DiagCheck c = rank_row("devices", "gpu", r.rank);
    c.value = fmt::format("{} ({}), cc {}.{}, {} SMs, host {}", r.gpu_name, r.gpu_uuid, r.cc_major,
                          r.cc_minor, r.sm_count, r.host);
    const bool cc_ok =
        r.cc_major > kMinCcMajor || (r.cc_major == kMinCcMajor && r.cc_minor >= kMinCcMinor);
    if (cc_ok) {
      c.verdict = Verdict::kPass;
    } else {
      c.verdict = Verdict::kFail;
      c.hint = fmt::format(
          "compute capability {}.{} is below {}.{}: the native exchange needs Hopper (sm_90) or "
          "newer; run on H100/H200/B200-class GPUs (the NCCL baselines still run here)",
          r.cc_major, r.cc_minor, kMinCcMajor, kMinCcMinor);
      c.remedy =
          "run the native exchange on Hopper (sm_90) or newer GPUs; on these GPUs use only the "
          "NCCL baselines: dcpbench run --impl nccl-*";
    }
    out.push_back(std::move(c));
  }

  DiagCheck m = job_row("devices", "gpu_model");
  const auto models = distinct(ranks, [](const RankFacts& r) { return r.gpu_name; });
  if (models.size() > 1) {
    m.verdict = Verdict::kWarn;
    m.value = "GPU models differ across ranks";
    m.hint = "GPU models differ: " + describe_groups(models) +
             "; the native exchange agrees one kernel plan across ranks and refuses mixed plans";
    m.remedy =
        "run every rank on the same GPU model (select the GPUs with CUDA_VISIBLE_DEVICES "
        "or the scheduler's GPU type constraint)";
  } else {
    m.verdict = Verdict::kPass;
    m.value = fmt::format("{} on every rank", ranks.empty() ? "" : ranks.front().gpu_name);
  }
  out.push_back(std::move(m));
  return out;
}

}  // namespace dcp::diag
