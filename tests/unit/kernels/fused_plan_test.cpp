// The fused kernels' ownership plan (fused_plan.hpp): every entry owned by exactly one CTA, every
// (source, entry) received exactly once, senders and receivers agree on every stream, the bounds
// hold, and refused cases say why in one line.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "kernels/fused_plan.hpp"

namespace dcp::kernels::fused {
namespace {

constexpr int kFifoLines = ll128::kDefaultDepth * ll128::kDefaultSlotLines;  // 128

PlanRequest request(Transport t, int cp, std::int64_t e, int d, int s = 1) {
  PlanRequest r;
  r.transport = t;
  r.shape = ExchangeShape{cp, e, d, s, false};
  r.sm_count = 132;
  r.ctas_per_sm = 1;
  r.local_grids = 1;
  r.max_channels = ll128::max_channels_for(cp);
  r.fifo_lines = kFifoLines;
  return r;
}

// Checks a plan's invariants for every rank: ownership, receive-once, stream agreement, warp order.
void check_plan(const PlanRequest& req, const FusedPlan& p) {
  const int cp = req.shape.cp_size;
  const auto e_total = static_cast<std::uint32_t>(req.shape.entries);
  ASSERT_GE(p.ctas, 1);
  EXPECT_LE(p.ctas * req.local_grids, req.sm_count * req.ctas_per_sm) << "co-residency";
  EXPECT_EQ(p.resident_needed, p.ctas * req.local_grids);
  // Ownership: the CTAs' entry ranges tile [0, E) in order; CTA 0 owns a largest range.
  std::uint32_t next = 0;
  for (int c = 0; c < p.ctas; ++c) {
    const Range r = cta_entries(p, c);
    ASSERT_EQ(r.first, next) << "CTA " << c;
    ASSERT_GE(r.count, 1u) << "CTA " << c << " owns nothing";
    EXPECT_LE(r.count, cta_entries(p, 0).count);
    next = r.end();
  }
  ASSERT_EQ(next, e_total);

  if (p.transport == Transport::kLl128) {
    EXPECT_LE(p.ctas, req.max_channels);
    EXPECT_EQ(p.max_stream_lines, ll128_stream(p, 0).lines);
    EXPECT_LE(p.max_stream_lines, static_cast<std::uint32_t>(req.fifo_lines));
    // Items (the same list on every rank; k names the peer): per CTA, every (direction, k, line)
    // exactly once, each warp's sends before its receives.
    for (int c = 0; c < p.ctas; ++c) {
      const StreamShape s = ll128_stream(p, c);
      EXPECT_EQ(s.entries, cta_entries(p, c).count);
      EXPECT_EQ(s.lse_words, (s.entries * p.stats_dim + 1) / 2);
      EXPECT_EQ(s.lines, (s.words + 14) / 15);
      const std::uint32_t items = ll128_items(p, s);
      std::vector<std::vector<bool>> send_lines(cp, std::vector<bool>(s.lines, false));
      std::vector<std::vector<bool>> recv_lines = send_lines;
      for (int w = 0; w < p.warps_per_cta; ++w) {
        bool receiving = false;
        for (std::uint32_t i = static_cast<std::uint32_t>(w); i < items;
             i += static_cast<std::uint32_t>(p.warps_per_cta)) {
          const Ll128Item it = ll128_item(p, s, i);
          ASSERT_TRUE(it.k >= 0 && it.k < cp);
          ASSERT_LE(it.first_line + it.lines, s.lines);
          ASSERT_GE(it.lines, 1u);
          EXPECT_FALSE(it.send && receiving) << "warp " << w << " sends after receiving";
          receiving |= !it.send;
          auto& lines = it.send ? send_lines : recv_lines;
          for (std::uint32_t l = it.first_line; l < it.first_line + it.lines; ++l) {
            EXPECT_FALSE(lines[static_cast<std::size_t>(it.k)][l]) << "line twice";
            lines[static_cast<std::size_t>(it.k)][l] = true;
          }
        }
      }
      for (int k = 0; k < cp; ++k) {
        const auto all = [](const std::vector<bool>& v) {
          return std::all_of(v.begin(), v.end(), [](bool b) { return b; });
        };
        EXPECT_TRUE(all(send_lines[static_cast<std::size_t>(k)]));
        EXPECT_TRUE(all(recv_lines[static_cast<std::size_t>(k)]));
      }
      // Stream words: row words cover every (entry, word) once, in order; then the stats.
      std::uint32_t row_words = 0;
      for (std::uint32_t w = 0; w < s.words; ++w) {
        const StreamWord sw = locate_stream_word(s, p.o_row_words, w);
        if (!sw.lse) {
          EXPECT_EQ(sw.entry * p.o_row_words + sw.word, w);
          ++row_words;
        } else {
          EXPECT_EQ(sw.word, w - s.o_words);
        }
      }
      EXPECT_EQ(row_words, s.entries * p.o_row_words);
    }
    // Ranks: the two ends of every stream use the same k and agree on its length; every
    // (source, entry) reaches each rank exactly once.
    std::map<std::tuple<int, int, int>, std::uint32_t> sent, received;  // (src, dst, cta) -> lines
    for (int rank = 0; rank < cp; ++rank) {
      std::vector<int> got(std::size_t{e_total} * cp, 0);  // [source][entry]: times received
      for (int c = 0; c < p.ctas; ++c) {
        const StreamShape s = ll128_stream(p, c);
        for (int k = 0; k < cp; ++k) {
          const int dst = send_peer(rank, k, cp);
          const int src = recv_peer(rank, k, cp);
          EXPECT_EQ(recv_peer(dst, k, cp), rank) << "ends of a stream use different k";
          EXPECT_TRUE(sent.emplace(std::make_tuple(rank, dst, c), s.lines).second);
          EXPECT_TRUE(received.emplace(std::make_tuple(src, rank, c), s.lines).second);
          for (std::uint32_t e = 0; e < s.entries; ++e)
            ++got[std::size_t{e_total} * src + cta_entries(p, c).first + e];
        }
      }
      EXPECT_TRUE(std::all_of(got.begin(), got.end(), [](int n) { return n == 1; }))
          << "rank " << rank << ": every (source, entry) received exactly once";
    }
    EXPECT_EQ(sent, received) << "senders and receivers disagree on a stream's length";
  } else {
    // Direct: CTAs own whole blocks; each block's row stores cover every (peer, entry) once.
    EXPECT_EQ(p.units, (e_total + p.unit_entries - 1) / p.unit_entries);
    for (int c = 0; c < p.ctas; ++c) {
      const Range blocks = cta_blocks(p, c);
      for (std::uint32_t b = blocks.first; b < blocks.end(); ++b) {
        const std::uint32_t first = b * p.unit_entries;
        const Range entries{first, std::min(p.unit_entries, e_total - first)};
        std::set<std::pair<int, std::uint32_t>> rows;
        for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(cp) * entries.count; ++i) {
          const RowItem r = direct_row_item(entries, i);
          ASSERT_TRUE(r.k >= 0 && r.k < cp);
          ASSERT_TRUE(r.entry >= entries.first && r.entry < entries.end());
          EXPECT_TRUE(rows.emplace(r.k, r.entry).second);
        }
      }
    }
  }
}

class FusedPlanShapes : public ::testing::TestWithParam<std::tuple<Transport, int>> {};

TEST_P(FusedPlanShapes, EveryShapePlansConsistently) {
  const auto [t, cp] = GetParam();
  int planned = 0;
  for (std::int64_t e : {1, 2, 7, 16, 100, 1000}) {
    for (int d : {64, 128, 512}) {
      for (int s : {1, 2}) {
        for (int grids : {1, cp}) {
          PlanRequest req = request(t, cp, e, d, s);
          req.local_grids = grids;
          const PlanOutcome out = make_fused_plan(req);
          if (!out.plan) {
            // Only LL128 may refuse these, and only because a stream outgrows its FIFO.
            EXPECT_EQ(t, Transport::kLl128) << out.problem;
            EXPECT_NE(out.problem.find("FIFO"), std::string::npos) << out.problem;
            continue;
          }
          EXPECT_TRUE(out.problem.empty());
          check_plan(req, *out.plan);
          ++planned;
        }
      }
    }
  }
  EXPECT_GT(planned, 0);
}

INSTANTIATE_TEST_SUITE_P(BothTransports, FusedPlanShapes,
                         ::testing::Combine(::testing::Values(Transport::kLl128,
                                                              Transport::kDirect),
                                            ::testing::Values(1, 2, 3, 4, 8, 16)),
                         [](const auto& param_info) {
                           return std::string(transport_name(std::get<0>(param_info.param))) +
                                  "Cp" + std::to_string(std::get<1>(param_info.param));
                         });

TEST(FusedPlan, WorkedLl128Numbers) {
  // D = 128 bf16, one LSE: 32 row words per entry; lines(n) = ceil((32n + ceil(n/2)) / 15).
  // cp = 2, W = 8, 4 lines per warp: 2 x 2 x lines(n) <= 32 holds up to n = 3 (7 lines).
  PlanOutcome out = make_fused_plan(request(Transport::kLl128, 2, 64, 128));
  ASSERT_TRUE(out.plan) << out.problem;
  EXPECT_EQ(out.plan->ctas, 22);  // ceil(64 / 3)
  EXPECT_EQ(cta_entries(*out.plan, 0).count, 3u);
  EXPECT_EQ(out.plan->max_stream_lines, 7u);
  // D = 512: one entry is already 9 lines, so one entry per CTA, up to the co-resident budget.
  out = make_fused_plan(request(Transport::kLl128, 2, 16, 512));
  ASSERT_TRUE(out.plan) << out.problem;
  EXPECT_EQ(out.plan->ctas, 16);
  EXPECT_EQ(out.plan->max_stream_lines, 9u);
  // Sim mode (8 grids on 132 SMs): 16 CTAs per grid; 1024 entries leave 64 per CTA: refused.
  PlanRequest sim = request(Transport::kLl128, 8, 1024, 512);
  sim.local_grids = 8;
  out = make_fused_plan(sim);
  ASSERT_FALSE(out.plan);
  EXPECT_EQ(out.problem,
            "fused ll128: cp=8 E=1024 D=512 S=1: at most 16 CTAs (channels 64, co-resident 16) "
            "leave 64 entries per CTA, a stream of 549 lines; a FIFO holds 128 and one call's "
            "stream must fit it; use the direct protocol");
}

TEST(FusedPlan, WorkedDirectNumbers) {
  // cp = 8, 4096 entries of 1028 bytes: 15 entries per block, 274 blocks; 132 CTAs own 2 or 3.
  PlanOutcome out = make_fused_plan(request(Transport::kDirect, 8, 4096, 512));
  ASSERT_TRUE(out.plan) << out.problem;
  EXPECT_EQ(out.plan->unit_entries, 15u);
  EXPECT_EQ(out.plan->units, 274u);
  EXPECT_EQ(out.plan->ctas, 132);
  EXPECT_EQ(cta_blocks(*out.plan, 0).count, 3u);
  EXPECT_EQ(cta_blocks(*out.plan, 131).count, 2u);
  EXPECT_EQ(cta_entries(*out.plan, 131).end(), 4096u);
  // Explicit block size.
  PlanRequest req = request(Transport::kDirect, 8, 100, 512);
  req.block_entries = 7;
  out = make_fused_plan(req);
  ASSERT_TRUE(out.plan) << out.problem;
  EXPECT_EQ(out.plan->units, 15u);
  EXPECT_EQ(cta_entries(*out.plan, 14).count, 2u);
}

TEST(FusedPlan, EmptyCallPlansNoCta) {
  for (Transport t : {Transport::kLl128, Transport::kDirect}) {
    const PlanOutcome out = make_fused_plan(request(t, 4, 0, 128));
    ASSERT_TRUE(out.plan) << out.problem;
    EXPECT_EQ(out.plan->ctas, 0);
  }
}

TEST(FusedPlan, SharedMemoryStaging) {
  PlanRequest req = request(Transport::kLl128, 4, 16, 512);
  req.stage_rows = true;
  req.smem_limit_bytes = 227 * 1024;
  PlanOutcome out = make_fused_plan(req);
  ASSERT_TRUE(out.plan) << out.problem;
  // One entry per CTA: 4 rows of 1024 bytes and 4 LSE values rounded up to 16 bytes.
  EXPECT_EQ(out.plan->smem_bytes, 4 * 1024 + 16);
  req.smem_limit_bytes = 4096;
  out = make_fused_plan(req);
  ASSERT_FALSE(out.plan);
  EXPECT_NE(out.problem.find("shared memory"), std::string::npos) << out.problem;
  req.stage_rows = false;  // without staging no shared memory is planned
  out = make_fused_plan(req);
  ASSERT_TRUE(out.plan);
  EXPECT_EQ(out.plan->smem_bytes, 0);
}

TEST(FusedPlan, CoResidency) {
  PlanRequest req = request(Transport::kDirect, 8, 4096, 512);
  req.sm_count = 4;
  req.local_grids = 8;  // 8 grids, 4 resident CTAs
  PlanOutcome out = make_fused_plan(req);
  ASSERT_FALSE(out.plan);
  EXPECT_EQ(out.problem,
            "fused direct: cp=8 E=4096 D=512 S=1: 8 grids need at least one resident CTA each, "
            "the GPU holds 4 (4 SMs x 1); lower cp or use one GPU per rank");
  // A plan that fit at the request's occupancy, checked again at the measured one.
  out = make_fused_plan(request(Transport::kDirect, 8, 4096, 512));
  ASSERT_TRUE(out.plan);
  EXPECT_EQ(co_residency_problem(*out.plan, 132, 1), std::nullopt);
  EXPECT_EQ(co_residency_problem(*out.plan, 264, 2), std::nullopt);
  EXPECT_EQ(co_residency_problem(*out.plan, 200, 2),
            "fused direct: cp=8 E=4096 needs 264 resident CTAs (132 per grid x 2 grids), the GPU "
            "holds 200; lower cp or tokens, or use one GPU per rank");
}

TEST(FusedPlan, BadRequestsAreRefused) {
  auto problem = [](PlanRequest r) { return make_fused_plan(r).problem; };
  EXPECT_NE(problem(request(Transport::kLl128, 65, 1, 128)).find("cp_size"), std::string::npos);
  EXPECT_NE(problem(request(Transport::kDirect, 2, 1, 12)).find("head_dim"), std::string::npos);
  PlanRequest r = request(Transport::kLl128, 2, 1, 128);
  r.warps_per_cta = 33;
  EXPECT_NE(problem(r).find("warps_per_cta"), std::string::npos);
  r = request(Transport::kLl128, 2, 1, 128);
  r.fifo_lines = 0;
  EXPECT_NE(problem(r).find("fifo_lines"), std::string::npos);
  r = request(Transport::kDirect, 2, 1, 128);
  r.ctas_per_sm = 0;
  EXPECT_NE(problem(r).find("ctas_per_sm"), std::string::npos);
  // cp = 64 is supported (both layouts address it).
  EXPECT_TRUE(make_fused_plan(request(Transport::kDirect, 64, 100, 128)).plan.has_value());
  EXPECT_TRUE(make_fused_plan(request(Transport::kLl128, 64, 100, 128)).plan.has_value());
}

}  // namespace
}  // namespace dcp::kernels::fused
