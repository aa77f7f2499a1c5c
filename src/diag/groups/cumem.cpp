#include "diag/groups/cumem.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"
#include "diag/wire.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CumemFacts, vmm, posix_fd, fabric, error)

std::string encode(const CumemFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, CumemFacts& out) {
  wire::decode(text, out, "cuMem facts");
}

namespace {

std::string yes_no(bool b) {
  return b ? "yes" : "no";
}

}  // namespace

std::vector<DiagCheck> cumem_checks(const std::vector<RankFacts>& ranks,
                                    const std::vector<CumemFacts>& facts) {
  std::vector<DiagCheck> out;
  for (std::size_t i = 0; i < ranks.size() && i < facts.size(); ++i) {
    const CumemFacts& f = facts[i];
    DiagCheck c = rank_row("cumem", "cumem_caps", ranks[i].rank);
    if (!f.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "reading the cuMem device attributes failed: " + f.error;
      c.remedy = "update the NVIDIA driver on this host (cuMem needs CUDA 10.2 or newer drivers)";
    } else {
      c.value = fmt::format("VMM {}, POSIX-fd handles {}, fabric handles {}", yes_no(f.vmm),
                            yes_no(f.posix_fd), yes_no(f.fabric));
      if (!f.vmm) {
        c.verdict = Verdict::kFail;
        c.hint =
            "no CUDA virtual memory management (CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_"
            "SUPPORTED is 0): the ipc and fabric workspaces are built with cuMem; update the "
            "driver";
        c.remedy = "update the NVIDIA driver; in a VM, use a vGPU/passthrough mode with VMM";
      } else if (!f.posix_fd) {
        c.verdict = Verdict::kWarn;
        c.hint =
            "no POSIX-fd cuMem handles: the single-host ipc workspace is unavailable, only "
            "fabric handles remain";
        c.remedy = "use --workspace fabric on an IMEX-enabled NVLink system, or update the driver";
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dcp::diag
