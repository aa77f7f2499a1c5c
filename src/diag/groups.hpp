#pragma once
/// @file
/// The check groups of `dcpbench diag`, in run order: the table of contents. Each group is one
/// header (its facts, verdict rule and CheckGroupInfo, groups/<name>.hpp), one pure rule file
/// (groups/<name>.cpp, host-only builds too) and one run file (groups/<name>_run.cpp: the
/// measurement on the ranks, full builds only). Pure: no CUDA, no MPI.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "diag/group_info.hpp"
#include "diag/groups/bandwidth.hpp"
#include "diag/groups/cumem.hpp"
#include "diag/groups/devices.hpp"
#include "diag/groups/driver.hpp"
#include "diag/groups/fabric.hpp"
#include "diag/groups/fabric_manager.hpp"
#include "diag/groups/imex.hpp"
#include "diag/groups/ipc.hpp"
#include "diag/groups/latency.hpp"
#include "diag/groups/ll128_order.hpp"
#include "diag/groups/mapping.hpp"
#include "diag/groups/nccl.hpp"
#include "diag/groups/nvlink.hpp"
#include "diag/groups/paths.hpp"
#include "diag/groups/pcie.hpp"
#include "diag/groups/peer.hpp"
#include "diag/groups/shm.hpp"
#include "diag/groups/smoke.hpp"
#include "diag/groups/store_load.hpp"
#include "diag/groups/visibility.hpp"

namespace dcp::diag {

/// Every group, in run order: host facts first (no GPU needed), then the GPU's capabilities,
/// the workspaces, the bounded store/load probe, and only then anything timed.
inline constexpr std::array kCheckGroups{
    kDevicesGroup,       kMappingGroup, kDriverGroup,    kNcclGroup,       kShmGroup,
    kFabricManagerGroup, kPeerGroup,    kPcieGroup,      kNvlinkGroup,     kPathsGroup,
    kCumemGroup,         kIpcGroup,     kFabricGroup,    kImexGroup,       kStoreLoadGroup,
    kVisibilityGroup,    kLatencyGroup, kBandwidthGroup, kLl128OrderGroup, kSmokeGroup,
};

/// The group called `name`, or null.
const CheckGroupInfo* find_check_group(std::string_view name);

/// "devices,mapping,...": the accepted names, for messages.
std::string accepted_check_groups();

/// Parses `--checks a,b` (comma-separated, spaces around names ignored) into group names in run
/// order, without duplicates. Throws ConfigError("checks: unknown check 'x'; accepted: ...") for
/// an unknown or empty name. An empty `csv` selects every group.
std::vector<std::string> parse_check_groups(std::string_view csv);

}  // namespace dcp::diag
