// Check group `visibility`, measured: signatures written and read through the probe mapping
// (probes.hpp), checked on the reader's GPU.
#include <chrono>
#include <span>

#include "core/cuda_raii.hpp"
#include "diag/context.hpp"
#include "diag/groups/visibility.hpp"
#include "diag/probes.hpp"
#include "diag/registry.hpp"

namespace dcp::diag {

namespace {

class VisibilityGroup final : public CheckGroup {
 public:
  VisibilityGroup() : CheckGroup(kVisibilityGroup) {}

  void run(Context& ctx, DiagReport& report) override {
    append_rows(report, visibility_checks(ctx.ranks(),
                                          ctx.gather_flat(measure(ctx), "diag visibility facts")));
  }

 private:
  static std::vector<VisibilityFacts> measure(Context& ctx) {
    if (ctx.size() < 2) return {};
    const std::size_t words = SegmentPlan::kSignatureWords;
    std::vector<VisibilityFacts> mine;
    for (int p = 0; p < ctx.size(); ++p) {
      if (p == ctx.me()) continue;
      VisibilityFacts f;
      f.writer = p;
      f.reader = ctx.me();
      f.words = words;
      mine.push_back(f);
    }
    ProbeMapping& map = ctx.mapping();
    if (map.get(ctx.single_host()) == nullptr) {
      for (auto& f : mine)
        f.skip_reason = map.why_not();
      return mine;
    }
    const SegmentPlan& seg = map.plan();
    std::uint64_t nonce =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    ctx.world().broadcast_bytes(std::span(reinterpret_cast<std::byte*>(&nonce), sizeof(nonce)), 0,
                                "diag visibility nonce");
    const Stream stream;
    const int me = ctx.me();
    // 1. Every rank writes its own signature into its own segment.
    std::string local_error = capture_error([&] {
      write_signature(map.at(me, seg.own_signature_offset()), words, signature_seed(nonce, me, me),
                      stream.get());
      wait_bounded(stream.get(), ctx.host_wait_s(), "writing the own signature");
    });
    ctx.world().barrier("diag visibility: own signatures written");
    // 2. Remote reads: every peer's own signature, read through the mapping.
    for (auto& f : mine) {
      if (!local_error.empty()) break;
      f.error = capture_error([&] {
        const SignatureResult r = check_signature(map.at(f.writer, seg.own_signature_offset()),
                                                  words, signature_seed(nonce, f.writer, f.writer),
                                                  stream.get(), ctx.host_wait_s());
        f.read_mismatches = r.mismatches;
        f.read_first_bad = r.first_bad;
        f.read_expected = r.expected;
        f.read_actual = r.actual;
      });
    }
    // 3. Remote writes: a signature into every peer's segment, slot = this rank.
    if (local_error.empty()) {
      local_error = capture_error([&] {
        for (int p = 0; p < ctx.size(); ++p) {
          if (p == me) continue;
          write_signature(map.at(p, seg.slot_offset(me)), words, signature_seed(nonce, me, p),
                          stream.get());
        }
        wait_bounded(stream.get(), ctx.host_wait_s(),
                     "writing signatures into the peers' segments");
      });
    }
    ctx.world().barrier("diag visibility: peer signatures written");
    // 4. Every peer's writes, checked in this rank's own segment.
    for (auto& f : mine) {
      if (!local_error.empty() || !f.error.empty()) continue;
      f.error = capture_error([&] {
        const SignatureResult r =
            check_signature(map.at(me, seg.slot_offset(f.writer)), words,
                            signature_seed(nonce, f.writer, me), stream.get(), ctx.host_wait_s());
        f.write_mismatches = r.mismatches;
        f.write_first_bad = r.first_bad;
        f.write_expected = r.expected;
        f.write_actual = r.actual;
      });
    }
    for (auto& f : mine) {
      f.ran = true;
      if (!local_error.empty() && f.error.empty()) f.error = local_error;
    }
    return mine;
  }
};

}  // namespace

std::unique_ptr<CheckGroup> make_visibility_group() {
  return std::make_unique<VisibilityGroup>();
}

}  // namespace dcp::diag
