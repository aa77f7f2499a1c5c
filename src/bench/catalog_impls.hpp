#pragma once
/// @file
/// CatalogImpls: the ImplProvider over a catalog of registry rows. Each row's object is made by
/// the row's factory on first use and reused across cases; the objects and the state they share
/// (ImplEnv) are destroyed with the provider, objects first, in the same order on every rank.

#include <map>
#include <memory>
#include <string>

#include "bench/runner.hpp"
#include "core/impl_info.hpp"

namespace dcp::bench {

class CatalogImpls : public ImplProvider {
 public:
  /// `catalog` must outlive the provider; `world` may be nullptr (single-process uses).
  CatalogImpls(const ImplCatalog& catalog, const World* world);
  ~CatalogImpls() override;
  CatalogImpls(const CatalogImpls&) = delete;
  CatalogImpls& operator=(const CatalogImpls&) = delete;

  [[nodiscard]] const ImplCatalog& catalog() const override { return catalog_; }
  /// Throws Error for a row without a factory (a describe-only catalog).
  AllToAllImpl& get(const ImplInfo& row) override;

 private:
  const ImplCatalog& catalog_;
  ImplEnv env_;  ///< declared before impls_: destroyed after them
  std::map<std::string, std::unique_ptr<AllToAllImpl>, std::less<>> impls_;
};

}  // namespace dcp::bench
