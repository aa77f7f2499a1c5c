// Check group `store_load`, measured: the bounded store/load probe (store_load_probe.hpp) on
// every ordered pair through the probe mapping, one pair at a time.
#include <fmt/format.h>

#include "core/cuda_raii.hpp"
#include "core/error.hpp"
#include "diag/context.hpp"
#include "diag/groups/store_load.hpp"
#include "diag/probes.hpp"
#include "diag/registry.hpp"
#include "diag/rules.hpp"
#include "diag/store_load_probe.hpp"

namespace dcp::diag {

namespace {

class StoreLoadGroup final : public CheckGroup {
 public:
  StoreLoadGroup() : CheckGroup(kStoreLoadGroup) {}

  void run(Context& ctx, DiagReport& report) override {
    append_rows(report, store_load_checks(ctx.ranks(),
                                          ctx.gather_flat(measure(ctx), "diag store_load facts")));
  }

 private:
  static std::vector<StoreLoadFacts> measure(Context& ctx) {
    std::vector<StoreLoadFacts> mine;
    if (ctx.size() < 2) return mine;
    ProbeMapping& map = ctx.mapping();
    const bool mapped = map.get(ctx.single_host()) != nullptr;
    const SegmentPlan& seg = map.plan();
    const int me = ctx.me();
    for (int a = 0; a < ctx.size(); ++a) {
      for (int b = 0; b < ctx.size(); ++b) {
        if (a == b) continue;
        const std::uint64_t token = (static_cast<std::uint64_t>(ctx.next_epoch()) << 32) |
                                    (static_cast<std::uint64_t>(a & 0xFFFF) << 16) |
                                    static_cast<std::uint64_t>(b & 0xFFFF);
        ctx.world().barrier("diag store_load: pair");
        if (me != a && me != b) continue;
        StoreLoadFacts f;
        f.from = a;
        f.to = b;
        f.initiator = me == a;
        if (!mapped) {
          f.skip_reason = map.why_not();
        } else if (auto why = pair_skip_reason(ctx.rank(a), ctx.rank(b), false)) {
          f.skip_reason = *why +
                          ": two processes cannot keep spinning kernels resident on one GPU at "
                          "once";
        }
        if (f.skip_reason.empty()) {
          const int peer = f.initiator ? b : a;
          f.error = capture_error([&] {
            StoreLoadProbe probe;
            const Stream s;
            probe.launch(f.initiator,
                         static_cast<std::uint64_t*>(map.at(peer, seg.store_load_offset(me))),
                         static_cast<const std::uint64_t*>(map.at(me, seg.store_load_offset(peer))),
                         token, ctx.timeout_s(), s.get());
            try {
              wait_bounded(s.get(), ctx.host_wait_s(), "the store/load probe");
            } catch (const TimeoutError& e) {
              throw TimeoutError(fmt::format(
                  "diag store_load: the probe of ranks {} -> {} on rank {} did not finish within "
                  "{} s although its spins are bounded: a load or store through the mapping never "
                  "completed (peer access to the mapping not granted?); {}",
                  a, b, me, ctx.host_wait_s(), e.what()));
            }
            const StoreLoadOutcome o = probe.collect();
            f.ran = true;
            f.timed_out = o.timed_out;
            f.step = o.step;
            f.load_checked = o.load_checked;
            f.expected = o.expected;
            f.loaded = o.loaded;
            f.seconds = o.seconds;
          });
        }
        mine.push_back(std::move(f));
      }
    }
    return mine;
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_store_load_group() {
  return std::make_unique<StoreLoadGroup>();
}

}  // namespace dcp::diag
