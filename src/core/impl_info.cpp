#include "core/impl_info.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace dcp {

bool speedup_pairs_with(const ImplInfo& row, std::string_view other) {
  if (other == row.name || row.speedups_against.empty()) return false;
  if (row.speedups_against == "*") return true;
  std::string_view rest = row.speedups_against;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (rest.substr(0, comma) == other) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

std::string describe(const ImplInfo& row) {
  std::string ops;
  for (Op o : kAllOps) {
    if (row.ops.contains(o)) ops += fmt::format("{}{}", ops.empty() ? "" : ",", to_string(o));
  }
  std::string launches;
  for (LaunchMode m : kAllLaunchModes) {
    if (row.launches.contains(m)) {
      launches += fmt::format("{}{}", launches.empty() ? "" : ",", to_string(m));
    }
  }
  const ImplTraits& t = row.traits;
  std::string traits =
      t.exact ? "exact" : fmt::format("within {} x cp ulp of the terms", t.ulp_bound);
  if (t.uses_pdl) traits += ", pdl axis";
  if (t.uses_workspace) traits += ", workspace axis";
  if (!t.moves_stats) traits += ", partial_o only";
  const ImplNeeds& n = row.needs;
  std::string needs = n.one_gpu_per_rank ? "one GPU per rank" : "one GPU per rank or sim";
  if (n.min_world > 1) needs += fmt::format(", >= {} ranks", n.min_world);
  if (!n.min_nccl.empty()) {
    needs +=
        fmt::format(", NCCL >= {}.{}.{}", n.min_nccl.major, n.min_nccl.minor, n.min_nccl.patch);
  }
  if (n.peer_load_store) needs += ", peer load/store (NVLink or fabric)";
  return fmt::format("ops: {}; launch: {}; {}; needs {}; speedups against: {}{}", ops, launches,
                     traits, needs,
                     row.speedups_against.empty()  ? std::string_view("none")
                     : row.speedups_against == "*" ? std::string_view("every other")
                                                   : row.speedups_against,
                     row.in_default_sweep ? "" : "; not in the default sweep");
}

ImplCatalog::ImplCatalog(std::initializer_list<std::span<const ImplInfo>> parts) {
  for (const auto& part : parts) {
    for (const ImplInfo& row : part) {
      if (row.name.empty()) throw Error("implementation catalog: a row has no name");
      if (find(row.name)) {
        throw Error(fmt::format("implementation catalog: '{}' is registered twice", row.name));
      }
      rows_.push_back(row);
    }
  }
}

const ImplInfo* ImplCatalog::find(std::string_view name) const {
  for (const ImplInfo& row : rows_) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

const ImplInfo& ImplCatalog::at(std::string_view name) const {
  if (const ImplInfo* row = find(name)) return *row;
  throw ConfigError(
      fmt::format("impl: unknown implementation '{}'; accepted: {}", name, accepted()));
}

std::vector<std::string> ImplCatalog::default_names() const {
  std::vector<std::string> out;
  for (const ImplInfo& row : rows_) {
    if (row.in_default_sweep) out.emplace_back(row.name);
  }
  return out;
}

std::string ImplCatalog::accepted() const {
  std::string out;
  for (const ImplInfo& row : rows_) {
    if (!out.empty()) out += '|';
    out += row.name;
  }
  return out;
}

}  // namespace dcp
