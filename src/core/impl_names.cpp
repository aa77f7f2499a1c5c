#include "core/impl_names.hpp"

namespace dcp {

bool is_known_impl(std::string_view name) {
  for (auto n : kAllImpls) {
    if (n == name) return true;
  }
  return false;
}

std::string accepted_impls() {
  std::string out;
  for (auto n : kAllImpls) {
    if (!out.empty()) out += '|';
    out += n;
  }
  return out;
}

bool impl_uses_pdl(std::string_view name) {
  return name == kImplNative;
}
bool impl_uses_workspace(std::string_view name) {
  return name == kImplNative;
}
bool impl_moves_stats(std::string_view name) {
  return name != kImplNccl1x;
}

}  // namespace dcp
