#pragma once
/// @file
/// What every check group of `dcpbench diag` declares about itself (pure, no CUDA): its
/// `--checks` name, a one-line description for `--list-checks`, and whether it needs a working
/// CUDA device. Each group's header defines one of these next to its facts and verdict rule
/// (groups/<name>.hpp); groups.hpp lists them in run order.

#include <string_view>

namespace dcp::diag {

struct CheckGroupInfo {
  std::string_view name;         ///< the `--checks` name, e.g. "nvlink"
  std::string_view description;  ///< one line for `--list-checks`
  /// The group measures on the GPU. When CUDA cannot start on some rank (e.g. error 802, the
  /// Fabric Manager not running), such a group is not run and reports one SKIP row; the others
  /// (NVML, sysfs, versions) still run, so the report says what is wrong.
  bool needs_gpu = true;
};

}  // namespace dcp::diag
