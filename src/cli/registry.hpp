#pragma once
/// @file
/// The implementation registry: the only file that sees both the native strategies (kernels/)
/// and the NCCL baselines (baseline/). It concatenates their registry rows into the program's
/// catalog; Registry is the program's bench::ImplProvider over it.

#include <string>
#include <string_view>

#include "bench/catalog_impls.hpp"
#include "core/impl_info.hpp"
#include "core/world.hpp"

namespace dcp::cli {

/// Every implementation dcpbench ships: kernels' rows, then baseline's.
const ImplCatalog& builtin_catalog();

/// The implementation `diag` smoke-tests: the native exchange, whose workspace runs over the
/// paths diag examines.
std::string_view diag_smoke_impl();

/// The program's ImplProvider: builtin_catalog()'s rows made for `world`'s job. Objects and
/// their shared state (the NCCL communicator) are destroyed with the registry, before the World.
class Registry final : public bench::CatalogImpls {
 public:
  explicit Registry(const World& world) : CatalogImpls(builtin_catalog(), &world) {}

  /// Version of the NCCL library loaded at run time ("2.28.9"), and the one compiled against.
  [[nodiscard]] static std::string nccl_loaded_version();
  [[nodiscard]] static std::string nccl_compiled_version();
  /// A warning when they differ (and what it breaks), else empty.
  [[nodiscard]] static std::string nccl_version_warning();
};

}  // namespace dcp::cli
