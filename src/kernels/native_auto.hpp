#pragma once
/// @file
/// `native-auto`: per case, the native strategy that the machine's measured crossover says is
/// faster (kernels/crossover.hpp): `native` (LL128) below the crossover's entry count,
/// `native-direct` from it on. Everything else is the picked strategy's (exactness, parts,
/// timeouts, workspace); the pick and the rule show in detail(). A case the picked strategy
/// refuses runs on the other one when that one accepts it (the detail says so).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/impl.hpp"
#include "core/world.hpp"
#include "kernels/crossover.hpp"
#include "kernels/native_direct.hpp"
#include "kernels/native_strategy.hpp"

namespace dcp::kernels {

/// ImplEnv key of the Crossover native-auto reads (the CLI stores the file it loaded there).
inline constexpr std::string_view kCrossoverKey = "kernels/crossover";

class NativeAuto final : public AllToAllImpl {
 public:
  NativeAuto(const World* world, std::shared_ptr<const Crossover> crossover,
             DirectOptions direct_options = {});

  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override;
  void setup(const ExchangeSetup& s) override;
  void run(std::size_t slot) override { picked().run(slot); }
  [[nodiscard]] std::vector<std::string> parts() const override { return picked().parts(); }
  void run_part(std::size_t slot, std::size_t part) override { picked().run_part(slot, part); }
  void check() override { picked().check(); }
  void teardown() override;
  void abort_inflight() noexcept override;
  [[nodiscard]] std::uint64_t min_fresh_calls() const override {
    return picked().min_fresh_calls();
  }
  [[nodiscard]] std::size_t workspace_bytes() const override { return picked().workspace_bytes(); }
  [[nodiscard]] std::string detail() const override;

 private:
  /// The strategy for `c` and why (the rule, or the fallback); nullptr when neither accepts it.
  struct Pick {
    AllToAllImpl* impl = nullptr;
    std::string why;
  };
  Pick pick(const Case& c) const;
  [[nodiscard]] AllToAllImpl& picked() const;

  std::shared_ptr<const Crossover> crossover_;
  std::unique_ptr<NativeStrategy> ll128_;
  std::unique_ptr<NativeDirect> direct_;
  AllToAllImpl* active_ = nullptr;
  std::string why_;
};

}  // namespace dcp::kernels
