#include "diag/registry.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "diag/groups.hpp"

namespace dcp::diag {

std::vector<std::unique_ptr<CheckGroup>> make_check_groups() {
  std::vector<std::unique_ptr<CheckGroup>> g;
  g.push_back(make_devices_group());
  g.push_back(make_mapping_group());
  g.push_back(make_driver_group());
  g.push_back(make_nccl_group());
  g.push_back(make_shm_group());
  g.push_back(make_fabric_manager_group());
  g.push_back(make_peer_group());
  g.push_back(make_pcie_group());
  g.push_back(make_nvlink_group());
  g.push_back(make_paths_group());
  g.push_back(make_cumem_group());
  g.push_back(make_ipc_group());
  g.push_back(make_fabric_group());
  g.push_back(make_imex_group());
  g.push_back(make_store_load_group());
  g.push_back(make_visibility_group());
  g.push_back(make_latency_group());
  g.push_back(make_bandwidth_group());
  g.push_back(make_ll128_order_group());
  g.push_back(make_smoke_group());
  DCP_CHECK(g.size() == kCheckGroups.size(), "diag: the group registry and kCheckGroups differ");
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g[i]->name() != kCheckGroups[i].name) {
      throw Error(fmt::format("diag: group {} is '{}' in the registry but '{}' in kCheckGroups", i,
                              g[i]->name(), kCheckGroups[i].name));
    }
  }
  return g;
}

}  // namespace dcp::diag
