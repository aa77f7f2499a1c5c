#include "bench/catalog_impls.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace dcp::bench {

CatalogImpls::CatalogImpls(const ImplCatalog& catalog, const World* world)
    : catalog_(catalog), env_(world) {}

CatalogImpls::~CatalogImpls() = default;

AllToAllImpl& CatalogImpls::get(const ImplInfo& row) {
  if (auto it = impls_.find(row.name); it != impls_.end()) return *it->second;
  if (!row.make) throw Error(fmt::format("impl '{}' has no factory in this build", row.name));
  std::unique_ptr<AllToAllImpl> impl = row.make(env_);
  DCP_CHECK(impl && impl->name() == row.name,
            "a registry row's factory made another implementation than the row names");
  AllToAllImpl& ref = *impl;
  impls_.emplace(std::string(row.name), std::move(impl));
  return ref;
}

}  // namespace dcp::bench
