#include "cli/registry.hpp"

#include "baseline/impls.hpp"
#include "baseline/nccl_comm.hpp"
#include "kernels/impls.hpp"

namespace dcp::cli {

const ImplCatalog& builtin_catalog() {
  static const ImplCatalog catalog{kernels::native_impls(), baseline::nccl_impls()};
  return catalog;
}

std::string_view diag_smoke_impl() {
  return kernels::kNativeName;
}

std::string Registry::nccl_loaded_version() {
  return baseline::loaded_nccl_version();
}
std::string Registry::nccl_compiled_version() {
  return baseline::compiled_nccl_version();
}
std::string Registry::nccl_version_warning() {
  return baseline::nccl_version_warning().value_or(std::string());
}

}  // namespace dcp::cli
