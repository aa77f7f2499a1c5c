#pragma once
/// @file
/// OpDispatch: one registry row whose operations are implemented by two objects (nccl-2x: the
/// exchange by NcclHostAllToAll, the reduction by NcclReduce2x). Every call goes to the object
/// of the case set up last (setup() picks it by the case's op); both share the row's name.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/impl.hpp"

namespace dcp::baseline {

class OpDispatch final : public AllToAllImpl {
 public:
  OpDispatch(std::unique_ptr<AllToAllImpl> exchange, std::unique_ptr<AllToAllImpl> reduce)
      : exchange_(std::move(exchange)), reduce_(std::move(reduce)), active_(exchange_.get()) {
    DCP_CHECK(exchange_ && reduce_, "OpDispatch needs both implementations");
  }

  [[nodiscard]] std::string name() const override { return exchange_->name(); }
  [[nodiscard]] std::optional<std::string> unsupported_reason(const Case& c) const override {
    return of(c.op).unsupported_reason(c);
  }
  /// The exchange's allocator (the runner asks before setup(); both halves allocate plainly).
  [[nodiscard]] std::unique_ptr<BufferAllocator> make_allocator() override {
    return active_->make_allocator();
  }
  void setup(const ExchangeSetup& s) override {
    AllToAllImpl& next = of(s.c.op);
    if (&next != active_) active_->teardown();
    active_ = &next;
    active_->setup(s);
  }
  void run(std::size_t slot) override { active_->run(slot); }
  [[nodiscard]] std::vector<std::string> parts() const override { return active_->parts(); }
  void run_part(std::size_t slot, std::size_t part) override { active_->run_part(slot, part); }
  void check() override { active_->check(); }
  void teardown() override { active_->teardown(); }
  void abort_inflight() noexcept override { active_->abort_inflight(); }
  [[nodiscard]] std::uint64_t min_fresh_calls() const override {
    return active_->min_fresh_calls();
  }
  [[nodiscard]] std::size_t workspace_bytes() const override { return active_->workspace_bytes(); }
  [[nodiscard]] std::string detail() const override { return active_->detail(); }

 private:
  [[nodiscard]] AllToAllImpl& of(Op op) const { return op == Op::kReduce ? *reduce_ : *exchange_; }

  std::unique_ptr<AllToAllImpl> exchange_;
  std::unique_ptr<AllToAllImpl> reduce_;
  AllToAllImpl* active_;
};

}  // namespace dcp::baseline
