#include "diag/rank_facts.hpp"

#include "diag/wire.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RankFacts, rank, local_rank, local_size, host, cuda_ready,
                                   cuda_error, cuda_error_name, cuda_error_text, device,
                                   visible_devices, cvd_set, cvd, visible_uuids, gpu_name, gpu_uuid,
                                   pci_bus_id, sm_count, cc_major, cc_minor, driver_version,
                                   runtime_version, nccl_loaded, nccl_compiled, nccl_warning)

std::string encode(const RankFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, RankFacts& out) {
  wire::decode(text, out, "rank facts");
}

}  // namespace dcp::diag
