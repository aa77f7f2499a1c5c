#pragma once
/// @file
/// Every check group's factory (defined in its groups/<name>_run.cpp) and the list in run order
/// (full builds). registry.cpp checks at start-up that the list matches groups.hpp's kCheckGroups.

#include <memory>
#include <vector>

#include "diag/check_group.hpp"

namespace dcp::diag {

std::unique_ptr<CheckGroup> make_devices_group();
std::unique_ptr<CheckGroup> make_mapping_group();
std::unique_ptr<CheckGroup> make_driver_group();
std::unique_ptr<CheckGroup> make_nccl_group();
std::unique_ptr<CheckGroup> make_shm_group();
std::unique_ptr<CheckGroup> make_fabric_manager_group();
std::unique_ptr<CheckGroup> make_peer_group();
std::unique_ptr<CheckGroup> make_pcie_group();
std::unique_ptr<CheckGroup> make_nvlink_group();
std::unique_ptr<CheckGroup> make_paths_group();
std::unique_ptr<CheckGroup> make_cumem_group();
std::unique_ptr<CheckGroup> make_ipc_group();
std::unique_ptr<CheckGroup> make_fabric_group();
std::unique_ptr<CheckGroup> make_imex_group();
std::unique_ptr<CheckGroup> make_store_load_group();
std::unique_ptr<CheckGroup> make_visibility_group();
std::unique_ptr<CheckGroup> make_latency_group();
std::unique_ptr<CheckGroup> make_bandwidth_group();
std::unique_ptr<CheckGroup> make_ll128_order_group();
std::unique_ptr<CheckGroup> make_smoke_group();

/// Every group, in the run order of kCheckGroups. Throws dcp::Error when the two lists differ
/// (a group added to one and not the other).
std::vector<std::unique_ptr<CheckGroup>> make_check_groups();

}  // namespace dcp::diag
