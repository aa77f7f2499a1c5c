#include "kernels/native_auto.hpp"

#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"
#include "kernels/impls.hpp"

namespace dcp::kernels {

NativeAuto::NativeAuto(const World* world, std::shared_ptr<const Crossover> crossover,
                       DirectOptions direct_options)
    : crossover_(std::move(crossover)),
      ll128_(std::make_unique<NativeStrategy>(world)),
      direct_(std::make_unique<NativeDirect>(world, DirectScheme::kFused, direct_options)) {
  DCP_CHECK(crossover_ != nullptr, "native-auto: no crossover");
}

std::string NativeAuto::name() const {
  return std::string(kNativeAutoName);
}

NativeAuto::Pick NativeAuto::pick(const Case& c) const {
  const bool direct = picks_direct(*crossover_, c.op, c.cp_size, c.head_dim, c.batch);
  const auto rule = rule_for(*crossover_, c.op, c.cp_size, c.head_dim);
  std::string why =
      !rule ? fmt::format("no crossover rule for {} cp={} ({}): LL128", to_string(c.op), c.cp_size,
                          crossover_->source)
      : rule->direct_from_entries == kDirectNever
          ? fmt::format("E={}: LL128 at every measured E ({})", c.batch, crossover_->source)
          : fmt::format("E={} {} {} ({})", c.batch, direct ? ">=" : "<", rule->direct_from_entries,
                        crossover_->source);
  AllToAllImpl* first = direct ? static_cast<AllToAllImpl*>(direct_.get()) : ll128_.get();
  AllToAllImpl* second = direct ? static_cast<AllToAllImpl*>(ll128_.get()) : direct_.get();
  if (!first->unsupported_reason(c)) return {first, first->name() + ", " + why};
  if (!second->unsupported_reason(c)) {
    return {second, fmt::format("{} (the crossover picked {}, which refuses this case; {})",
                                second->name(), first->name(), why)};
  }
  return {nullptr, why};
}

std::optional<std::string> NativeAuto::unsupported_reason(const Case& c) const {
  if (pick(c).impl != nullptr) return std::nullopt;
  return fmt::format("native-auto: neither strategy accepts the case: {}; {}",
                     ll128_->unsupported_reason(c).value_or("?"),
                     direct_->unsupported_reason(c).value_or("?"));
}

void NativeAuto::setup(const ExchangeSetup& s) {
  Pick p = pick(s.c);
  if (p.impl == nullptr) throw ConfigError(*unsupported_reason(s.c));
  if (active_ != nullptr && active_ != p.impl) active_->teardown();
  active_ = p.impl;
  why_ = std::move(p.why);
  active_->setup(s);
}

AllToAllImpl& NativeAuto::picked() const {
  if (active_ == nullptr) throw Error("native-auto: used before setup()");
  return *active_;
}

void NativeAuto::teardown() {
  if (active_ != nullptr) active_->teardown();
  active_ = nullptr;
}

void NativeAuto::abort_inflight() noexcept {
  if (active_ != nullptr) active_->abort_inflight();
}

std::string NativeAuto::detail() const {
  if (active_ == nullptr) return {};
  return fmt::format("auto: {}; {}", why_, active_->detail());
}

}  // namespace dcp::kernels
