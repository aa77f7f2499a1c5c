#include "cli/impl_registry.hpp"

#include <fmt/format.h>

#include "baseline/nccl_baseline.hpp"
#include "baseline/nccl_comm.hpp"
#include "core/error.hpp"
#include "core/impl_names.hpp"
#include "kernels/native_alltoall.hpp"

namespace dcp::cli {

struct ImplRegistry::Shared {
  std::shared_ptr<baseline::NcclContext> nccl;  ///< created on first NCCL impl; comm is lazy too
};

ImplRegistry::ImplRegistry(const World& world)
    : world_(world), shared_(std::make_unique<Shared>()) {}

ImplRegistry::~ImplRegistry() = default;

AllToAllImpl& ImplRegistry::get(std::string_view name) {
  if (auto it = impls_.find(name); it != impls_.end()) return *it->second;
  std::unique_ptr<AllToAllImpl> impl;
  if (name == kImplNative) {
    impl = kernels::make_native_alltoall(world_);
  } else if (is_known_impl(name)) {
    if (!shared_->nccl) shared_->nccl = baseline::make_nccl_context(world_);
    impl = baseline::make_nccl_alltoall(name, shared_->nccl);
  } else {
    throw ConfigError(
        fmt::format("impl: unknown implementation '{}'; accepted: {}", name, accepted_impls()));
  }
  auto& ref = *impl;
  impls_.emplace(std::string(name), std::move(impl));
  return ref;
}

std::string ImplRegistry::nccl_loaded_version() {
  return baseline::loaded_nccl_version();
}
std::string ImplRegistry::nccl_compiled_version() {
  return baseline::compiled_nccl_version();
}
std::string ImplRegistry::nccl_version_warning() {
  return baseline::nccl_version_warning().value_or(std::string());
}

}  // namespace dcp::cli
