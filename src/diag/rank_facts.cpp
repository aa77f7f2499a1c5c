#include "diag/rank_facts.hpp"

#include "diag/wire.hpp"

namespace dcp::diag {

// The base RankInfo's fields and diag's own, in one flat JSON object (found by nlohmann through
// argument-dependent lookup, so declared in RankFacts' namespace).
void to_json(nlohmann::json& j, const RankFacts& f);
void from_json(const nlohmann::json& j, RankFacts& f);

void to_json(nlohmann::json& j, const RankFacts& f) {
  j = nlohmann::json{{"rank", f.rank},
                     {"local_rank", f.local_rank},
                     {"local_size", f.local_size},
                     {"host", f.host},
                     {"cuda_ready", f.cuda_ready},
                     {"cuda_error", f.cuda_error},
                     {"cuda_error_name", f.cuda_error_name},
                     {"cuda_error_text", f.cuda_error_text},
                     {"device", f.device},
                     {"visible_devices", f.visible_devices},
                     {"cvd_set", f.cvd_set},
                     {"cvd", f.cvd},
                     {"visible_uuids", f.visible_uuids},
                     {"gpu_name", f.gpu_name},
                     {"gpu_uuid", f.gpu_uuid},
                     {"pci_bus_id", f.pci_bus_id},
                     {"sm_count", f.sm_count},
                     {"cc_major", f.cc_major},
                     {"cc_minor", f.cc_minor},
                     {"driver_version", f.driver_version},
                     {"runtime_version", f.runtime_version},
                     {"nccl_version", f.nccl_version},
                     {"nccl_compiled", f.nccl_compiled},
                     {"nccl_warning", f.nccl_warning}};
}

void from_json(const nlohmann::json& j, RankFacts& f) {
  j.at("rank").get_to(f.rank);
  j.at("local_rank").get_to(f.local_rank);
  j.at("local_size").get_to(f.local_size);
  j.at("host").get_to(f.host);
  j.at("cuda_ready").get_to(f.cuda_ready);
  j.at("cuda_error").get_to(f.cuda_error);
  j.at("cuda_error_name").get_to(f.cuda_error_name);
  j.at("cuda_error_text").get_to(f.cuda_error_text);
  j.at("device").get_to(f.device);
  j.at("visible_devices").get_to(f.visible_devices);
  j.at("cvd_set").get_to(f.cvd_set);
  j.at("cvd").get_to(f.cvd);
  j.at("visible_uuids").get_to(f.visible_uuids);
  j.at("gpu_name").get_to(f.gpu_name);
  j.at("gpu_uuid").get_to(f.gpu_uuid);
  j.at("pci_bus_id").get_to(f.pci_bus_id);
  j.at("sm_count").get_to(f.sm_count);
  j.at("cc_major").get_to(f.cc_major);
  j.at("cc_minor").get_to(f.cc_minor);
  j.at("driver_version").get_to(f.driver_version);
  j.at("runtime_version").get_to(f.runtime_version);
  j.at("nccl_version").get_to(f.nccl_version);
  j.at("nccl_compiled").get_to(f.nccl_compiled);
  j.at("nccl_warning").get_to(f.nccl_warning);
}

std::string encode(const RankFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, RankFacts& out) {
  wire::decode(text, out, "rank facts");
}

}  // namespace dcp::diag
