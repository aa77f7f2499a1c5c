#pragma once
/// @file
/// The only place that sees both the native exchange (kernels/) and the NCCL baselines
/// (baseline/): maps implementation names to objects, created on first use and reused across
/// cases.

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "bench/runner.hpp"
#include "core/world.hpp"

namespace dcp::cli {

class ImplRegistry final : public bench::ImplProvider {
 public:
  explicit ImplRegistry(const World& world);
  ~ImplRegistry() override;
  AllToAllImpl& get(std::string_view name) override;

  /// Version of the NCCL library loaded at run time ("2.28.9"), and the one compiled against.
  [[nodiscard]] static std::string nccl_loaded_version();
  [[nodiscard]] static std::string nccl_compiled_version();
  /// A warning when they differ (and what it breaks), else empty.
  [[nodiscard]] static std::string nccl_version_warning();

 private:
  struct Shared;
  const World& world_;
  std::unique_ptr<Shared> shared_;
  std::map<std::string, std::unique_ptr<AllToAllImpl>, std::less<>> impls_;
};

}  // namespace dcp::cli
