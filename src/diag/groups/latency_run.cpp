// Check group `latency`, measured: flag ping-pong between two single-thread kernels (probes.hpp),
// on each GPU alone (two streams, the diagonal) and for every pair through the probe mapping.
#include <fmt/format.h>

#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/stats.hpp"
#include "diag/context.hpp"
#include "diag/groups/latency.hpp"
#include "diag/probes.hpp"
#include "diag/registry.hpp"
#include "diag/rules.hpp"

namespace dcp::diag {

namespace {

class LatencyGroup final : public CheckGroup {
 public:
  LatencyGroup() : CheckGroup(kLatencyGroup) {}

  void run(Context& ctx, DiagReport& report) override {
    std::vector<LatencyFacts> mine;
    // Diagonal: one rank at a time, so ranks sharing a GPU do not disturb each other.
    for (int r = 0; r < ctx.size(); ++r) {
      ctx.world().barrier("diag latency: self");
      if (r == ctx.me()) mine.push_back(self_latency(ctx));
    }
    if (ctx.size() > 1) pairs(ctx, mine);
    const std::vector<LatencyFacts> all =
        merge_latency(ctx.gather_flat(mine, "diag latency facts"));
    append_rows(report, latency_checks(ctx.ranks(), all));
    for (auto& m : latency_matrices(ctx.size(), all, method(ctx.sizes())))
      report.matrices.push_back(std::move(m));
  }

 private:
  static std::string method(const ProbeSizes& s) {
    return fmt::format(
        "ping-pong of two single-thread kernels through the mapped workspace (flags written "
        "into the peer's segment, polled locally), {} rounds after {} warm-up, round trip / 2; "
        "rounds timed with clock64, scaled by %globaltimer over the loop",
        s.latency_rounds, s.latency_warmup);
  }

  static void fill(LatencyFacts& f, const PingPongOutcome& ini, const PingPongOutcome& resp) {
    f.ran = true;
    if (ini.timed_out || resp.timed_out) {
      f.timed_out = true;
      f.failed_round = ini.timed_out ? ini.failed_round : resp.failed_round;
      f.failed_side = ini.timed_out ? "the initiator" : "the responder";
      return;
    }
    const SampleStats s = dcp::summarize(ini.one_way_s);
    f.rounds = static_cast<int>(ini.one_way_s.size());
    f.p50_s = s.p50;
    f.p99_s = s.p99;
    f.mean_s = ini.mean_one_way_s;
  }

  /// Self: two streams of this GPU ping-pong through two local flags.
  static LatencyFacts self_latency(Context& ctx) {
    const ProbeSizes& sz = ctx.sizes();
    LatencyFacts f;
    f.from = f.to = ctx.me();
    f.error = capture_error([&] {
      const DeviceMemory flags(2 * kFlagStrideBytes);
      DCP_CUDA_CHECK(cudaMemset(flags.get(), 0, flags.bytes()));
      auto* a = flags.as<std::uint64_t>();
      auto* b = a + kFlagStrideBytes / sizeof(std::uint64_t);
      PingPongProbe initiator(sz.latency_rounds);
      PingPongProbe responder(sz.latency_rounds);
      const Stream s1;
      const Stream s2;
      responder.launch(PingRole::kResponder, a, b, 1, sz.latency_warmup, sz.latency_rounds,
                       ctx.timeout_s(), s2.get());
      initiator.launch(PingRole::kInitiator, b, a, 1, sz.latency_warmup, sz.latency_rounds,
                       ctx.timeout_s(), s1.get());
      wait_bounded(s1.get(), ctx.host_wait_s(), "the self ping-pong (initiator)");
      wait_bounded(s2.get(), ctx.host_wait_s(), "the self ping-pong (responder)");
      fill(f, initiator.collect(), responder.collect());
    });
    return f;
  }

  static void pairs(Context& ctx, std::vector<LatencyFacts>& mine) {
    const ProbeSizes& sz = ctx.sizes();
    ProbeMapping& map = ctx.mapping();
    const bool mapped = map.get(ctx.single_host()) != nullptr;
    const SegmentPlan& seg = map.plan();
    const int me = ctx.me();
    for (int a = 0; a < ctx.size(); ++a) {
      for (int b = a + 1; b < ctx.size(); ++b) {
        const std::uint32_t epoch = ctx.next_epoch() + 1;  // epoch 1 is the self measurement's
        const bool involved = me == a || me == b;
        LatencyFacts f;
        f.from = a;
        f.to = b;
        if (!mapped) {
          f.skip_reason = map.why_not();
        } else if (auto why = pair_skip_reason(ctx.rank(a), ctx.rank(b), false)) {
          f.skip_reason = *why +
                          ": two processes cannot keep spinning kernels resident on one "
                          "GPU at once";
        }
        ctx.world().barrier("diag latency: pair");
        if (!involved) continue;
        if (f.skip_reason.empty()) {
          const bool initiator = me == a;
          const int peer = initiator ? b : a;
          f.error = capture_error([&] {
            auto* send = static_cast<std::uint64_t*>(map.at(peer, seg.flag_offset(me)));
            const auto* recv = static_cast<const std::uint64_t*>(map.at(me, seg.flag_offset(peer)));
            PingPongProbe probe(sz.latency_rounds);
            const Stream s;
            probe.launch(initiator ? PingRole::kInitiator : PingRole::kResponder, send, recv, epoch,
                         sz.latency_warmup, sz.latency_rounds, ctx.timeout_s(), s.get());
            wait_bounded(s.get(), ctx.host_wait_s(), "the ping-pong kernel");
            const PingPongOutcome o = probe.collect();
            if (initiator) {
              fill(f, o, PingPongOutcome{});
            } else {
              f.ran = false;  // the initiator's record carries the measurement
              f.timed_out = o.timed_out;
              f.failed_round = o.failed_round;
              if (o.timed_out) f.failed_side = "the responder";
            }
          });
        } else if (me != a) {
          continue;  // the skip is recorded once, by the initiator
        }
        mine.push_back(std::move(f));
      }
    }
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_latency_group() {
  return std::make_unique<LatencyGroup>();
}

}  // namespace dcp::diag
