#pragma once
/// @file
/// Version, git SHA and build type of this binary (generated at build time).

#include <string>

namespace dcp {

struct BuildInfo {
  std::string version;     ///< semantic version of dcpbench
  std::string git_sha;     ///< short SHA, "-dirty" when tracked files differed at build time
  std::string build_type;  ///< CMake build type (Release, Debug, ...)
};

BuildInfo build_info();

}  // namespace dcp
