// Check group `smoke`, measured: one native-exchange case through the sweep runner.
//
// The implementation comes from the CLI (DiagEnvironment::impls, a bench::ImplProvider over the
// registry, and the name to run): diag links neither kernels/ nor baseline/.
#include <fmt/format.h>

#include <memory>

#include "bench/runner.hpp"
#include "core/error.hpp"
#include "core/resolve.hpp"
#include "core/sweep.hpp"
#include "diag/context.hpp"
#include "diag/groups/devices.hpp"
#include "diag/groups/smoke.hpp"
#include "diag/registry.hpp"
#include "diag/rules.hpp"

namespace dcp::diag {

namespace {

/// Why the native exchange cannot run on these ranks, or "".
std::string smoke_skip_reason(const std::vector<RankFacts>& ranks) {
  for (const auto& r : ranks) {
    if (r.cc_major < kMinCcMajor) {
      return fmt::format(
          "rank {}'s GPU has compute capability {}.{}; the native exchange needs >= {}.{} (see "
          "gpu)",
          r.rank, r.cc_major, r.cc_minor, kMinCcMajor, kMinCcMinor);
    }
    for (const auto& o : ranks) {
      if (o.rank <= r.rank) continue;
      if (auto why = pair_skip_reason(r, o, false)) {
        return *why + ": the exchange needs one GPU per rank";
      }
    }
  }
  return {};
}

/// The seam: runs the one smoke case with the implementations `impls` gives (collective) and
/// returns the facts every rank agrees on.
SmokeFacts run_smoke_case(Context& ctx, bench::ImplProvider& impls) {
  // The exchange builds its own workspace: give back the diag one first (cuMem mappings are
  // kept small, environment.md).
  ctx.mapping().release();
  SmokeFacts f;
  f.skip_reason = smoke_skip_reason(ctx.ranks());
  if (!f.skip_reason.empty()) return f;
  const std::string& impl = ctx.env().smoke_impl;
  if (impl.empty()) {
    f.skip_reason = "no implementation to smoke-test was given to diag";
    return f;
  }

  SweepSpec spec;
  spec.axes.batch = {16};
  spec.axes.head_dim = {128};
  spec.axes.stats_dim = {2};
  spec.axes.dtype = {DType::kBf16};
  spec.axes.impl = {impl};
  spec.axes.launch = {LaunchMode::kEager};
  spec.axes.pdl = {true};
  if (ctx.size() == 1) {
    spec.axes.cp_size = {2};
    spec.axes.workspace = {WorkspaceKind::kSim};
    f.note = "single rank: cp=2 simulated on one GPU (sim workspace)";
  } else {
    spec.axes.cp_size = {ctx.size()};
    spec.axes.workspace = {ctx.single_host() ? WorkspaceKind::kIpc : WorkspaceKind::kAuto};
  }
  spec.measure.warmup = 2;
  spec.measure.iters = ctx.sizes().smoke_iters;
  spec.measure.timeout_s = ctx.timeout_s();
  f.ran = true;
  std::string error;
  try {
    validate(spec);
    // Built from the gathered facts, so identical on every rank: no agreement needed.
    const ResolvedSweep sweep = resolve_sweep(spec, impls.catalog(), ctx.size());
    const bench::SweepOutcome outcome = bench::run_sweep(sweep, impls, ctx.world(), {});
    DCP_CHECK(outcome.results.size() == 1, "diag smoke test: expected one result");
    const CaseResult& r = outcome.results.front();
    f.case_key = r.c.key();
    f.status = std::string(to_string(r.status));
    f.exact = r.status == CaseStatus::kOk && r.verify.ok();
    f.verify = r.verify.summary();
    if (r.timing) f.p50_s = r.timing->stats.p50;
    if (r.status == CaseStatus::kSkipped) f.skip_reason = r.skip_reason;
    if (r.status == CaseStatus::kError) error = r.error;
  } catch (const Error& e) {
    // A device-side timeout of the exchange (TimeoutError from check()) is a FAIL of this
    // check, not of diag.
    error = e.what();
  }
  f.error = error;
  const auto all = ctx.gather(f, "diag smoke-test facts");
  SmokeFacts merged = all.front();
  for (const auto& o : all) {
    if (!o.error.empty() && merged.error.empty()) merged.error = o.error;
  }
  return merged;
}

class SmokeGroup final : public CheckGroup {
 public:
  SmokeGroup() : CheckGroup(kSmokeGroup) {}
  void run(Context& ctx, DiagReport& report) override {
    bench::ImplProvider* impls = ctx.env().impls;
    if (impls == nullptr) {
      SmokeFacts f;
      f.skip_reason = "no implementation to smoke-test was given to diag";
      report.checks.push_back(smoke_check(f));
      return;
    }
    report.checks.push_back(smoke_check(run_smoke_case(ctx, *impls)));
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_smoke_group() {
  return std::make_unique<SmokeGroup>();
}

}  // namespace dcp::diag
