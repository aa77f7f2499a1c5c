#include "core/types.hpp"

#include <string>

namespace dcp {

namespace {

template <typename E, std::size_t N>
std::optional<E> parse_from(std::string_view s, const std::array<E, N>& all) {
  for (E v : all) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

template <typename E, std::size_t N>
std::string join_names(const std::array<E, N>& all) {
  std::string out;
  for (E v : all) {
    if (!out.empty()) out += '|';
    out += to_string(v);
  }
  return out;
}

}  // namespace

std::string_view to_string(DType v) {
  switch (v) {
    case DType::kBf16:
      return "bf16";
    case DType::kFp16:
      return "fp16";
  }
  return "?";
}

std::string_view to_string(WorkspaceKind v) {
  switch (v) {
    case WorkspaceKind::kAuto:
      return "auto";
    case WorkspaceKind::kIpc:
      return "ipc";
    case WorkspaceKind::kFabric:
      return "fabric";
    case WorkspaceKind::kSim:
      return "sim";
  }
  return "?";
}

std::string_view to_string(LaunchMode v) {
  switch (v) {
    case LaunchMode::kEager:
      return "eager";
    case LaunchMode::kPipelined:
      return "pipelined";
    case LaunchMode::kGraph:
      return "graph";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view s) {
  return parse_from(s, kAllDTypes);
}
std::optional<WorkspaceKind> parse_workspace(std::string_view s) {
  return parse_from(s, kAllWorkspaceKinds);
}
std::optional<LaunchMode> parse_launch(std::string_view s) {
  return parse_from(s, kAllLaunchModes);
}

std::string accepted_dtypes() {
  return join_names(kAllDTypes);
}
std::string accepted_workspaces() {
  return join_names(kAllWorkspaceKinds);
}
std::string accepted_launches() {
  return join_names(kAllLaunchModes);
}

}  // namespace dcp
