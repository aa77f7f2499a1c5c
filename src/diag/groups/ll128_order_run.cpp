// Check group `ll128_order`, measured: the ordering probe (ll128_probe.hpp) on every ordered pair
// through the probe mapping: the writer rank's warp stores into the reader rank's ring, the
// reader counts torn lines; flag-first, then flag-last; one pair at a time.
#include <fmt/format.h>

#include "core/cuda_raii.hpp"
#include "core/error.hpp"
#include "diag/context.hpp"
#include "diag/groups/ll128_order.hpp"
#include "diag/ll128_probe.hpp"
#include "diag/probes.hpp"
#include "diag/registry.hpp"
#include "diag/rules.hpp"

namespace dcp::diag {

namespace {

/// A bound on the host wait for one layout's run, beyond the no-progress timeout the kernels
/// enforce themselves: generous per line (the probe moves lines at well under a microsecond each
/// over NVLink), so it only catches a GPU that stopped running the kernels.
constexpr double kHostSecondsPerLine = 2e-6;

class Ll128OrderGroup final : public CheckGroup {
 public:
  Ll128OrderGroup() : CheckGroup(kLl128OrderGroup) {}

  void run(Context& ctx, DiagReport& report) override {
    append_rows(report, ll128_order_checks(
                            ctx.ranks(), ctx.gather_flat(measure(ctx), "diag ll128_order facts")));
  }

 private:
  static std::vector<Ll128OrderFacts> measure(Context& ctx) {
    std::vector<Ll128OrderFacts> mine;
    if (ctx.size() < 2) return mine;
    ProbeMapping& map = ctx.mapping();
    const bool mapped = map.get(ctx.single_host()) != nullptr;
    const SegmentPlan& seg = map.plan();
    const int me = ctx.me();
    const std::uint64_t lines = ctx.sizes().ll128_lines;
    const double layout_wait = ctx.host_wait_s() + static_cast<double>(lines) * kHostSecondsPerLine;
    // The ranks not in a pair wait at the next barrier while it runs.
    const Context::LongWait long_wait(ctx.world(), 2 * layout_wait + ctx.timeout_s());
    for (int w = 0; w < ctx.size(); ++w) {
      for (int r = 0; r < ctx.size(); ++r) {
        if (w == r) continue;
        const bool involved = me == w || me == r;
        Ll128OrderFacts f;
        f.writer = w;
        f.reader = r;
        f.ring_lines = kLl128RingLines;
        if (!mapped) {
          f.skip_reason = map.why_not();
        } else if (auto why = pair_skip_reason(ctx.rank(w), ctx.rank(r), false)) {
          f.skip_reason = *why +
                          ": the probe needs a writer and a reader on two GPUs (one GPU shares one "
                          "L2 and cannot show ordering failures)";
        }
        // One barrier per layout: both sides of a pair finish a layout (and leave the ring)
        // before the next run reuses it.
        for (const auto layout :
             {ll128probe::FlagLayout::kFlagFirst, ll128probe::FlagLayout::kFlagLast}) {
          const std::uint32_t epoch = ctx.next_epoch();
          ctx.world().barrier("diag ll128_order: pair");
          if (!involved || !f.skip_reason.empty() || !f.error.empty()) continue;
          Ll128LayoutCounts& c =
              layout == ll128probe::FlagLayout::kFlagFirst ? f.flag_first : f.flag_last;
          f.error = capture_error([&] {
            c = run_layout(ctx, map, seg, w, r, layout, epoch, lines, layout_wait, f.seconds);
          });
        }
        if (!involved) continue;
        f.ran = f.skip_reason.empty() && f.error.empty();
        // The reader's record carries the counts; the writer's only a skip (recorded once, by
        // the reader), its stall or its error.
        if (me == r || !f.error.empty() || f.flag_first.timed_out || f.flag_last.timed_out) {
          mine.push_back(std::move(f));
        }
      }
    }
    return mine;
  }

  static Ll128LayoutCounts run_layout(Context& ctx, ProbeMapping& map, const SegmentPlan& seg,
                                      int w, int r, ll128probe::FlagLayout layout,
                                      std::uint32_t epoch, std::uint64_t lines, double wait_s,
                                      double& seconds) {
    Ll128ProbeParams p;
    p.lines = lines;
    p.ring_lines = kLl128RingLines;
    p.credit_every = kLl128RingLines / 4;
    p.epoch = epoch;
    p.layout = layout;
    p.timeout_s = ctx.timeout_s();
    const int me = ctx.me();
    Ll128Probe probe;
    const Stream s;
    if (me == w) {
      probe.launch_writer(map.at(r, seg.ll128_ring_offset()),
                          static_cast<const std::uint64_t*>(map.at(w, seg.ll128_credit_offset())),
                          p, s.get());
    } else {
      probe.launch_reader(map.at(r, seg.ll128_ring_offset()),
                          static_cast<std::uint64_t*>(map.at(w, seg.ll128_credit_offset())), p,
                          s.get());
    }
    wait_bounded(s.get(), wait_s, "the ll128_order probe");
    Ll128LayoutCounts c;
    if (me == w) {
      const Ll128WriterOutcome o = probe.writer_outcome();
      c.timed_out = o.timed_out;
      if (o.timed_out) {
        c.stalled_side = "writer (waiting for the reader's credit)";
        c.stalled_at_line = o.stalled_at_line;
      }
      return c;
    }
    const Ll128ReaderOutcome o = probe.reader_outcome();
    c.lines = o.lines;
    c.torn_single = o.torn_single;
    c.torn_after_flag = o.torn_after_flag;
    c.first_torn_line = o.first_torn_line;
    c.timed_out = o.timed_out;
    if (o.timed_out) {
      c.stalled_side = "reader (waiting for a line's flag)";
      c.stalled_at_line = o.stalled_at_line;
    }
    seconds += o.seconds;
    // Both sides of the pair finish this layout before the next reuses the ring.
    return c;
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_ll128_order_group() {
  return std::make_unique<Ll128OrderGroup>();
}

}  // namespace dcp::diag
