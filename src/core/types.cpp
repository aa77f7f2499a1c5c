#include "core/types.hpp"

#include <fmt/format.h>

#include <string>

#include "core/error.hpp"

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

std::string_view to_string(Op v) {
  switch (v) {
    case Op::kExchange:
      return "exchange";
    case Op::kReduce:
      return "reduce";
  }
  return "?";
}

std::string_view to_string(LseBase v) {
  switch (v) {
    case LseBase::kE:
      return "e";
    case LseBase::kTwo:
      return "2";
  }
  return "?";
}

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

std::optional<Op> parse_op(std::string_view s) {
  return parse_from(s, kAllOps);
}
std::optional<LseBase> parse_lse_base(std::string_view s) {
  return parse_from(s, kAllLseBases);
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

std::string accepted_ops() {
  return join_names(kAllOps);
}
std::string accepted_lse_bases() {
  return join_names(kAllLseBases);
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

std::vector<std::string> split_list(std::string_view text, std::string_view field,
                                    std::string_view accepted) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw ConfigError(fmt::format("{}: the list is {}; accepted: {}", field,
                                  text.empty() ? "empty" : "blank", accepted));
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string_view entry = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (entry.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      throw ConfigError(fmt::format(
          "{}: entry {} of '{}' is {}; accepted: a comma-separated list of {} (no empty entries)",
          field, out.size() + 1, text, entry.empty() ? "empty (a stray comma)" : "blank",
          accepted));
    }
    out.emplace_back(entry);
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

}  // namespace dcp
