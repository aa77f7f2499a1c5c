#pragma once
/// @file
/// Check group `fabric`: fabric (MNNVL) handles: the device attribute, cuMemCreate + export of
/// one granule, and import + map of every peer's handle (the IMEX channel). Failures are FAIL
/// here; apply_fabric_fallback then turns them into WARN where the job has another path. Run:
/// groups/fabric_run.cpp.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"
#include "diag/rank_facts.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kFabricGroup{
    "fabric",
    "fabric handles: device attribute, cuMemCreate + export, import + map of every peer's handle "
    "(IMEX channel)",
    true};

/// CUDA_ERROR_NOT_PERMITTED: what cuMemCreate/cuMemImport answer without an IMEX channel.
inline constexpr int kCuErrorNotPermitted = 800;

/// Fabric handles on one rank: the attribute, then cuMemCreate + export of one granule.
struct FabricFacts {
  bool attribute = false;   ///< CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED
  bool attempted = false;   ///< cuMemCreate was tried
  bool create_ok = false;   ///< created and exported
  std::string failed_step;  ///< "cuMemCreate", "cuMemExportToShareableHandle", ...
  int cu_result = 0;        ///< CUresult of the failure, 0 when none
  std::string cu_name;      ///< "CUDA_ERROR_NOT_PERMITTED"
  std::string cu_text;      ///< "operation not permitted"
  std::string error;        ///< the failure message
  std::string imex;         ///< fabric::ImexStatus::summary() of this host
  std::string explanation;  ///< fabric::explain_fabric_failure() for a failure
  std::uint64_t bytes = 0;  ///< size tried

  friend bool operator==(const FabricFacts&, const FabricFacts&) = default;
};

/// Import + map of `exporter`'s fabric handle in `importer`'s process.
struct FabricImportFacts {
  int importer = 0;
  int exporter = 0;
  bool attempted = false;
  bool ok = false;
  int cu_result = 0;
  std::string cu_name;
  std::string cu_text;
  std::string error;

  friend bool operator==(const FabricImportFacts&, const FabricImportFacts&) = default;
};

std::string encode(const FabricFacts& f);
void decode(std::string_view text, FabricFacts& out);
std::string encode(const std::vector<FabricImportFacts>& f);
void decode(std::string_view text, std::vector<FabricImportFacts>& out);

/// "fabric_attribute" and "fabric_create" per rank, "fabric_import" per ordered pair.
std::vector<DiagCheck> fabric_checks(const std::vector<RankFacts>& ranks,
                                     const std::vector<FabricFacts>& facts,
                                     const std::vector<FabricImportFacts>& imports);

/// Fabric failures are WARN, not FAIL, when the job does not need fabric handles: a single
/// rank, or all ranks on one host with a working ipc workspace (ipc_workspace PASS). With ipc
/// not checked on one host they are WARN too (the hint says to check ipc); across hosts, or when
/// ipc failed, no cross-GPU path works and they stay FAIL. Applied to the whole report.
void apply_fabric_fallback(std::vector<DiagCheck>& checks, const std::vector<RankFacts>& ranks);

}  // namespace dcp::diag
