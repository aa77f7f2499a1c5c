// nccl-packed's data path on the host (baseline/packed_rows.hpp): every rank packs its rows with
// their stats into [cp, E, P], an emulated all-to-all moves chunk p of every rank to rank p, and
//  - op exchange: the unpack gives outputs bit-exact against core/pattern.hpp's oracle;
//  - op reduce: the merge reading the packed rows in place (MergeStrides) gives the CPU
//    reference's bits.
// Also the layout itself: 16-byte rows, 4-byte aligned stats, zero padding, odd D.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "baseline/packed_rows.hpp"
#include "core/shape.hpp"
#include "core/verify.hpp"
#include "merge/reference.hpp"

namespace dcp::baseline {
namespace {

constexpr std::uint64_t kSeed = 0xBA5E;

/// The pack of one rank's inputs, unit by unit as the kernel computes them.
std::vector<std::uint16_t> pack_host(const PackedLayout& l, const std::uint16_t* in_o,
                                     const void* in_stats) {
  // The stats as 16-bit units (the kernel reads device memory as such; here a copy avoids
  // reading floats through another type).
  std::vector<std::uint16_t> stats(static_cast<std::size_t>(l.entries * l.cp * 2 * l.stats_dim));
  std::memcpy(stats.data(), in_stats, stats.size() * 2);
  std::vector<std::uint16_t> send(static_cast<std::size_t>(l.units()));
  for (std::int64_t u = 0; u < l.units(); ++u) {
    const PackedUnit pu = packed_unit(l, u);
    send[static_cast<std::size_t>(u)] = packed_value(l, pu.in_row, pu.k, in_o, stats.data());
  }
  return send;
}

/// recv[d] chunk s = send[s] chunk d, for every pair (what one ncclAlltoAll delivers).
std::vector<std::vector<std::uint16_t>> alltoall_host(
    const PackedLayout& l, const std::vector<std::vector<std::uint16_t>>& send) {
  const auto chunk = static_cast<std::size_t>(l.peer_units());
  std::vector<std::vector<std::uint16_t>> recv(send.size(),
                                               std::vector<std::uint16_t>(send[0].size(), 0xEEEE));
  for (std::size_t d = 0; d < send.size(); ++d) {
    for (std::size_t s = 0; s < send.size(); ++s) {
      std::memcpy(&recv[d][s * chunk], &send[s][d * chunk], chunk * 2);
    }
  }
  return recv;
}

TEST(PackedRows, LayoutIsAlignedAndCarriesTheStats) {
  for (int d : {1, 7, 64, 128, 129, 512}) {
    for (int s : {1, 2, 3}) {
      const PackedLayout l{5, 3, d, s};
      EXPECT_EQ(l.row_units() % 8, 0) << d;
      EXPECT_EQ(l.stats_offset() % 2, 0) << d;
      EXPECT_GE(l.stats_offset(), d);
      EXPECT_GE(l.row_units(), l.stats_offset() + 2 * s);
      EXPECT_LT(l.row_units(), l.stats_offset() + 2 * s + 8);  // the least padding that aligns
    }
  }
  EXPECT_EQ((PackedLayout{1, 2, 512, 1}.row_bytes()), 1040);  // 1028 B of payload + 12 B padding
  const PackedLayout l{2, 2, 3, 1};  // D = 3: element 3 is padding, the LSE at units 4..5
  const std::uint16_t o[4 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const float lse[4] = {1.5f, -2.0f, 3.25f, 0.5f};
  const auto send = pack_host(l, o, lse);
  ASSERT_EQ(send.size(), 2u * 2u * 8u);
  // Row (p = 1, e = 0) = input row (e = 0, p = 1): elements 4, 5, 6, pad, LSE -2, pad x 2.
  const std::uint16_t* r = &send[static_cast<std::size_t>(l.row(1, 0) * l.row_units())];
  EXPECT_EQ(r[0], 4);
  EXPECT_EQ(r[2], 6);
  EXPECT_EQ(r[3], 0);
  float got = 0;
  std::memcpy(&got, r + l.stats_offset(), 4);
  EXPECT_EQ(got, -2.0f);
  EXPECT_EQ(r[6], 0);
  EXPECT_EQ(r[7], 0);
}

TEST(PackedRows, ExchangeRoundTripIsBitExact) {
  for (int cp : {1, 2, 3, 8}) {
    for (std::int64_t e : {1, 5, 33}) {
      for (int d : {8, 13, 128}) {
        const ExchangeShape shape{cp, e, d, 2, cp % 2 == 0};
        const PackedLayout l{e, cp, d, shape.stats_dim};
        const auto o_elems = static_cast<std::size_t>(shape.rows() * d);
        const auto s_elems = static_cast<std::size_t>(shape.rows() * shape.stats_dim);
        std::vector<std::vector<std::uint16_t>> send;
        for (int r = 0; r < cp; ++r) {
          std::vector<std::uint16_t> in_o(o_elems);
          std::vector<std::uint32_t> in_s(s_elems);
          fill_inputs_host(shape, kSeed, 4, r, in_o.data(), in_s.data());
          send.push_back(pack_host(l, in_o.data(), in_s.data()));
        }
        const auto recv = alltoall_host(l, send);
        for (int dst = 0; dst < cp; ++dst) {
          std::vector<std::uint16_t> out_o(o_elems), out_s(s_elems * 2);
          for (std::int64_t u = 0; u < unpacked_units(l); ++u) {
            const std::uint16_t v = recv[static_cast<std::size_t>(dst)]
                                        [static_cast<std::size_t>(unpacked_source(l, u))];
            if (u < static_cast<std::int64_t>(o_elems)) {
              out_o[static_cast<std::size_t>(u)] = v;
            } else {
              out_s[static_cast<std::size_t>(u) - o_elems] = v;
            }
          }
          std::vector<std::uint32_t> stats(s_elems);
          std::memcpy(stats.data(), out_s.data(), s_elems * 4);
          const VerifyOutcome v =
              verify_outputs_host(shape, kSeed, 4, dst, out_o.data(), stats.data());
          EXPECT_TRUE(v.ok()) << "cp " << cp << " E " << e << " D " << d << ": " << v.summary();
          EXPECT_EQ(v.rows_checked, static_cast<std::uint64_t>(shape.rows()));
        }
      }
    }
  }
}

TEST(PackedRows, ReduceMergesThePackedRowsInPlaceBitIdentically) {
  for (int cp : {1, 2, 4, 8}) {
    for (bool fp16 : {false, true}) {
      for (int d : {64, 128, 512}) {
        const merge::MergeShape shape{cp, 24, d, fp16, fp16 ? LseBase::kE : LseBase::kTwo};
        const PackedLayout l{shape.entries, cp, d, 1};
        const auto rows = static_cast<std::size_t>(shape.entries * cp);
        std::vector<std::vector<std::uint16_t>> send;
        for (int r = 0; r < cp; ++r) {
          std::vector<std::uint16_t> o(rows * static_cast<std::size_t>(d));
          std::vector<float> lse(rows);
          merge::fill_reduce_inputs_host(shape, kSeed, 9, r, o.data(), lse.data());
          send.push_back(pack_host(l, o.data(), lse.data()));
        }
        const auto recv = alltoall_host(l, send);
        for (int dst = 0; dst < cp; ++dst) {
          const merge::MergeOutputs want = merge::reference_merge(shape, kSeed, 9, dst);
          std::vector<std::uint16_t> out(want.out.size(), 0xFFFF);
          std::vector<float> lse_out(want.lse_out.size());
          const std::uint16_t* base = recv[static_cast<std::size_t>(dst)].data();
          std::vector<float> lse_view;  // read through an aligned copy: the floats in place
          lse_view.resize(recv[static_cast<std::size_t>(dst)].size() / 2);
          std::memcpy(lse_view.data(), base + l.stats_offset(),
                      (recv[static_cast<std::size_t>(dst)].size() -
                       static_cast<std::size_t>(l.stats_offset())) *
                          2);
          merge::merge_host_strided(shape, base, lse_view.data(), l.merge_strides(), out.data(),
                                    lse_out.data());
          EXPECT_EQ(out, want.out) << "cp " << cp << " D " << d << " dst " << dst;
          EXPECT_EQ(std::memcmp(lse_out.data(), want.lse_out.data(), lse_out.size() * 4), 0);
        }
      }
    }
  }
}

}  // namespace
}  // namespace dcp::baseline
