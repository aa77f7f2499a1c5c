#pragma once
/// @file
/// A check group of `dcpbench diag` as the runner sees it (full builds; the model is
/// nvbandwidth's Testcase classes, shared/docs/style.md §3): its name and description (from its
/// CheckGroupInfo), and run(), which measures on this rank, gathers the facts and appends the
/// rows its pure rule gives. Every rank runs every selected group in the same order; run() is
/// collective.

#include <string_view>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"

namespace dcp::diag {

class Context;

class CheckGroup {
 public:
  explicit CheckGroup(const CheckGroupInfo& info) : info_(info) {}
  virtual ~CheckGroup() = default;
  CheckGroup(const CheckGroup&) = delete;
  CheckGroup& operator=(const CheckGroup&) = delete;

  [[nodiscard]] std::string_view name() const { return info_.name; }
  [[nodiscard]] std::string_view description() const { return info_.description; }
  [[nodiscard]] const CheckGroupInfo& info() const { return info_; }

  /// Measures on this rank, gathers every rank's facts through `ctx` and appends the rows (and
  /// matrices) of the group's rule to `report`. Collective.
  virtual void run(Context& ctx, DiagReport& report) = 0;

 private:
  const CheckGroupInfo& info_;
};

/// Appends `rows` to `report.checks`.
inline void append_rows(DiagReport& report, std::vector<DiagCheck> rows) {
  for (auto& r : rows)
    report.checks.push_back(std::move(r));
}

}  // namespace dcp::diag
