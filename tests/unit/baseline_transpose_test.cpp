// Host simulation of the NCCL baselines' data path (baseline/transpose.hpp), checked against the
// one oracle of expected data (core/verify.hpp). Each rank's inputs come from fill_inputs_host;
// pack, NCCL's all-to-all (chunk j of rank i's send buffer -> chunk i of rank j's receive
// buffer, done here with memcpy between rank buffers) and unpack use exactly the index functions
// the CUDA kernels use; every rank's outputs must then be bit-exact.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "baseline/transpose.hpp"
#include "core/pattern.hpp"
#include "core/shape.hpp"
#include "core/verify.hpp"

namespace dcp::baseline {
namespace {

constexpr std::uint64_t kSeed = 0x5EEDBA5E11E5ull;

/// One rank's four tensors in host memory.
struct RankTensors {
  std::vector<std::uint16_t> in_o, out_o;
  std::vector<std::uint32_t> in_stats, out_stats;
};

std::vector<RankTensors> make_ranks(const ExchangeShape& shape, std::uint32_t call) {
  std::vector<RankTensors> ranks(static_cast<std::size_t>(shape.cp_size));
  const auto o_elems = static_cast<std::size_t>(shape.rows() * shape.head_dim);
  const auto s_elems = static_cast<std::size_t>(shape.rows() * shape.stats_dim);
  for (int r = 0; r < shape.cp_size; ++r) {
    RankTensors& t = ranks[static_cast<std::size_t>(r)];
    t.in_o.resize(o_elems);
    t.out_o.resize(o_elems);
    t.in_stats.resize(s_elems);
    t.out_stats.resize(s_elems);
    fill_inputs_host(shape, kSeed, call, r, t.in_o.data(), t.in_stats.data());
    poison_outputs_host(shape, t.out_o.data(), t.out_stats.data());
  }
  return ranks;
}

using SourceRow = std::function<std::int64_t(std::int64_t)>;

/// Gather-permutes rows of `width` elements, as the pack/unpack kernels do.
template <typename T>
std::vector<T> permute_rows(const std::vector<T>& src, std::int64_t rows, int width,
                            const SourceRow& source_row) {
  std::vector<T> dst(src.size());
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::int64_t from = source_row(row);
    std::memcpy(&dst[static_cast<std::size_t>(row * width)],
                &src[static_cast<std::size_t>(from * width)], sizeof(T) * width);
  }
  return dst;
}

/// NCCL all-to-all semantics with `peer_elems` elements per peer: rank j's chunk i is rank i's
/// chunk j (the same for ncclAlltoAll and for grouped ncclSend/ncclRecv at peer*count offsets).
template <typename T>
std::vector<std::vector<T>> simulate_alltoall(const std::vector<std::vector<T>>& send,
                                              std::size_t peer_elems) {
  const std::size_t n = send.size();
  std::vector<std::vector<T>> recv(n, std::vector<T>(n * peer_elems));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      std::memcpy(&recv[j][i * peer_elems], &send[i][j * peer_elems], sizeof(T) * peer_elems);
    }
  }
  return recv;
}

/// One tensor through pack -> all-to-all -> unpack, for every rank at once.
template <typename T>
std::vector<std::vector<T>> host_path(const ExchangeShape& shape,
                                      const std::vector<std::vector<T>>& in, int width,
                                      bool transpose) {
  const std::int64_t rows = shape.rows();
  const std::int64_t e = shape.entries;
  const int cp = shape.cp_size;
  std::vector<std::vector<T>> send = in;
  if (transpose) {
    for (auto& s : send) {
      s = permute_rows(s, rows, width, [&](std::int64_t r) { return pack_source_row(r, e, cp); });
    }
  }
  auto recv = simulate_alltoall(send, static_cast<std::size_t>(e * width));
  if (transpose) {
    for (auto& r : recv) {
      r = permute_rows(r, rows, width, [&](std::int64_t x) { return unpack_source_row(x, e, cp); });
    }
  }
  return recv;
}

enum class Path { kTwoAllToAll, kOneAllToAll };

/// Runs the nccl-2x (or nccl-1x: partial_o only) data path on every rank and verifies.
VerifyOutcome run_host_path(const ExchangeShape& shape, Path path, bool transpose,
                            std::uint32_t call = 0) {
  auto ranks = make_ranks(shape, call);
  std::vector<std::vector<std::uint16_t>> in_o;
  std::vector<std::vector<std::uint32_t>> in_s;
  for (const auto& r : ranks) {
    in_o.push_back(r.in_o);
    in_s.push_back(r.in_stats);
  }
  const auto out_o = host_path(shape, in_o, shape.head_dim, transpose);
  std::vector<std::vector<std::uint32_t>> out_s;
  if (path == Path::kTwoAllToAll) out_s = host_path(shape, in_s, shape.stats_dim, transpose);
  VerifyOutcome total;
  for (int r = 0; r < shape.cp_size; ++r) {
    auto& t = ranks[static_cast<std::size_t>(r)];
    t.out_o = out_o[static_cast<std::size_t>(r)];
    if (path == Path::kTwoAllToAll) t.out_stats = out_s[static_cast<std::size_t>(r)];
    total.merge(verify_outputs_host(shape, kSeed, call, r, t.out_o.data(), t.out_stats.data(),
                                    path == Path::kTwoAllToAll));
    if (path == Path::kOneAllToAll) {
      // nccl-1x never touches softmax_stats: the outputs keep their poison.
      for (std::uint32_t w : t.out_stats)
        EXPECT_EQ(w, pattern::kPoisonStats);
    }
  }
  return total;
}

/// The device-API path: every input row is stored straight into its owner's output.
VerifyOutcome run_push_path(const ExchangeShape& shape) {
  auto ranks = make_ranks(shape, 0);
  const int cp = shape.cp_size;
  for (int r = 0; r < cp; ++r) {
    const RankTensors& src = ranks[static_cast<std::size_t>(r)];
    for (std::int64_t row = 0; row < shape.rows(); ++row) {
      RankTensors& dst = ranks[static_cast<std::size_t>(push_dest_rank(row, cp))];
      const std::int64_t to = push_dest_row(row, r, cp);
      std::memcpy(&dst.out_o[static_cast<std::size_t>(to * shape.head_dim)],
                  &src.in_o[static_cast<std::size_t>(row * shape.head_dim)],
                  sizeof(std::uint16_t) * shape.head_dim);
      std::memcpy(&dst.out_stats[static_cast<std::size_t>(to * shape.stats_dim)],
                  &src.in_stats[static_cast<std::size_t>(row * shape.stats_dim)],
                  sizeof(std::uint32_t) * shape.stats_dim);
    }
  }
  VerifyOutcome total;
  for (int r = 0; r < cp; ++r) {
    const auto& t = ranks[static_cast<std::size_t>(r)];
    total.merge(verify_outputs_host(shape, kSeed, 0, r, t.out_o.data(), t.out_stats.data()));
  }
  return total;
}

/// The shapes every path is checked on: cp 1..8, several E, D, S, both dtypes.
std::vector<ExchangeShape> shapes() {
  std::vector<ExchangeShape> out;
  for (int cp = 1; cp <= 8; ++cp) {
    for (std::int64_t e : {1, 2, 3, 16}) {
      for (int d : {8, 64, 130}) {
        for (int s : {2, 4, 6}) {
          out.push_back(ExchangeShape{cp, e, d, s, (cp + d + s) % 2 == 1});
        }
      }
    }
  }
  return out;
}

std::string describe(const ExchangeShape& s) {
  return "cp=" + std::to_string(s.cp_size) + " E=" + std::to_string(s.entries) +
         " D=" + std::to_string(s.head_dim) + " S=" + std::to_string(s.stats_dim) +
         (s.fp16 ? " fp16" : " bf16");
}

TEST(BaselineTranspose, PackAndUnpackArePermutationsThatUndoEachOtherAcrossRanks) {
  for (int cp = 1; cp <= 8; ++cp) {
    for (std::int64_t e : {1, 2, 5, 16}) {
      const std::int64_t rows = e * cp;
      std::set<std::int64_t> packed, unpacked;
      for (std::int64_t r = 0; r < rows; ++r) {
        packed.insert(pack_source_row(r, e, cp));
        unpacked.insert(unpack_source_row(r, e, cp));
        // Packed row p*E + e comes from input row (e, p); output row (e, src) from received
        // row (src, e).
        EXPECT_EQ(pack_source_row(r, e, cp), (r % e) * cp + r / e);
        EXPECT_EQ(unpack_source_row(r, e, cp), (r % cp) * e + r / cp);
        // Same layouts: unpack's source index maps back through pack.
        EXPECT_EQ(pack_source_row(unpack_source_row(r, e, cp), e, cp), r);
      }
      EXPECT_EQ(static_cast<std::int64_t>(packed.size()), rows) << "cp=" << cp << " E=" << e;
      EXPECT_EQ(static_cast<std::int64_t>(unpacked.size()), rows) << "cp=" << cp << " E=" << e;
      EXPECT_EQ(*packed.rbegin(), rows - 1);
    }
  }
}

TEST(BaselineTranspose, TransposesAreIdentityExactlyWhenNotNeeded) {
  for (int cp = 1; cp <= 8; ++cp) {
    for (std::int64_t e : {1, 2, 7}) {
      bool identity = true;
      for (std::int64_t r = 0; r < e * cp; ++r) {
        identity = identity && pack_source_row(r, e, cp) == r && unpack_source_row(r, e, cp) == r;
      }
      EXPECT_EQ(identity, !needs_transpose(e, cp)) << "cp=" << cp << " E=" << e;
    }
  }
}

TEST(BaselineTranspose, PeerChunksTileThePackedBuffer) {
  for (int cp = 1; cp <= 8; ++cp) {
    for (std::int64_t e : {1, 3}) {
      for (int p = 0; p < cp; ++p) {
        EXPECT_EQ(peer_chunk_first_row(p, e), p * e);
        // Every row of peer p's chunk is an input row addressed to peer p.
        for (std::int64_t k = 0; k < e; ++k) {
          EXPECT_EQ(pack_source_row(peer_chunk_first_row(p, e) + k, e, cp) % cp, p);
        }
      }
    }
  }
}

TEST(BaselineTranspose, TwoAllToAllPathIsBitExact) {
  for (const ExchangeShape& s : shapes()) {
    const auto out = run_host_path(s, Path::kTwoAllToAll, needs_transpose(s.entries, s.cp_size), 3);
    EXPECT_TRUE(out.ok()) << describe(s) << ": " << out.summary();
    EXPECT_EQ(out.rows_checked, static_cast<std::uint64_t>(s.rows() * s.cp_size));
  }
}

TEST(BaselineTranspose, ForcedTransposesStayBitExactWhereTheyAreTheIdentity) {
  for (const ExchangeShape& s : shapes()) {
    if (needs_transpose(s.entries, s.cp_size)) continue;
    const auto out = run_host_path(s, Path::kTwoAllToAll, /*transpose=*/true);
    EXPECT_TRUE(out.ok()) << describe(s) << ": " << out.summary();
  }
}

TEST(BaselineTranspose, OneAllToAllPathMovesPartialOOnly) {
  for (const ExchangeShape& s : shapes()) {
    if (s.cp_size % 3 != 0) continue;  // a sample keeps the test fast
    const auto out = run_host_path(s, Path::kOneAllToAll, needs_transpose(s.entries, s.cp_size));
    EXPECT_TRUE(out.ok()) << describe(s) << ": " << out.summary();
  }
}

TEST(BaselineTranspose, DevicePushPathIsBitExact) {
  for (const ExchangeShape& s : shapes()) {
    const auto out = run_push_path(s);
    EXPECT_TRUE(out.ok()) << describe(s) << ": " << out.summary();
  }
}

// The reference benchmark's baseline (dcp-a2a-spec.md §7): equal splits of the flat [E, cp, X]
// buffer, no transposes. It is right only when E == 1 — and the oracle says so, which also
// shows this simulation can fail.
TEST(BaselineTranspose, WrongAxisSplitOfTheReferenceFailsWhenEntriesExceedOne) {
  const ExchangeShape good{4, 1, 64, 2, false};
  EXPECT_TRUE(run_host_path(good, Path::kTwoAllToAll, /*transpose=*/false).ok());
  const ExchangeShape bad{4, 3, 64, 2, false};
  const VerifyOutcome out = run_host_path(bad, Path::kTwoAllToAll, /*transpose=*/false);
  ASSERT_FALSE(out.ok());
  ASSERT_TRUE(out.first.has_value());
  // Rank 0's first row (entry 0, from rank 0) happens to be right; the next one is not.
  EXPECT_EQ(out.first->dst_rank, 0);
  EXPECT_EQ(out.first->entry, 0);
  EXPECT_EQ(out.first->src_rank, 1);
  // Without transposes, rank r's flat output row f holds rank i = f / E's flat input row
  // r*E + f % E; output row f = (e, p) = (f / cp, f % cp) should hold rank p's row e*cp + r.
  std::uint64_t expected_bad = 0;
  for (int r = 0; r < bad.cp_size; ++r) {
    for (std::int64_t f = 0; f < bad.rows(); ++f) {
      const std::int64_t e = f / bad.cp_size;
      const std::int64_t p = f % bad.cp_size;
      const std::int64_t i = f / bad.entries;
      const std::int64_t k = f % bad.entries;
      if (!(i == p && r * bad.entries + k == e * bad.cp_size + r)) ++expected_bad;
    }
  }
  EXPECT_GT(expected_bad, 0u);
  EXPECT_EQ(out.bad_rows, expected_bad);
}

TEST(BaselineTranspose, CopyUnitIsTheWidestPowerOfTwoDividingTheRow) {
  EXPECT_EQ(copy_unit_bytes(256), 16);  // bf16, D = 128
  EXPECT_EQ(copy_unit_bytes(8), 8);     // fp32 stats, S = 2
  EXPECT_EQ(copy_unit_bytes(24), 8);    // S = 6
  EXPECT_EQ(copy_unit_bytes(16), 16);   // S = 4
  EXPECT_EQ(copy_unit_bytes(260), 4);   // D = 130
  EXPECT_EQ(copy_unit_bytes(6), 2);     // D = 3
  EXPECT_EQ(copy_unit_bytes(7), 1);
}

}  // namespace
}  // namespace dcp::baseline
