// The NCCL strategies of --op reduce on one GPU.
//  1. Through the sweep runner at cp = 1 (NCCL runs one rank per GPU, so one GPU gives one
//     rank): nccl-2x, nccl-packed and nccl-ag-rs reduce, nccl-packed exchange; eager and graph,
//     bf16 and fp16, both LSE bases: ok, every row bit-identical to the CPU reference (ag-rs too:
//     at cp = 1 its scale is 1 and the sum has one term), parts timed.
//  2. Their kernels at cp = 2, 4, 8 with every simulated rank's buffers on this GPU and the NCCL
//     collectives replaced by host copies (what cp = 1 cannot exercise): the pack kernel equals
//     the host pack; the merge kernel reading packed rows in place and [cp, E, D] receive buffers
//     (nccl-2x) is bit-identical to the reference; the unpack kernel gives bit-exact exchange
//     outputs; the ag-rs weights and rescale kernels equal the host arithmetic bit for bit and,
//     summed in ring order in the output dtype, stay within the row's bound with lse_out exact.
// What needs 2+ GPUs (tests/mpi, or dcpbench under mpirun): the NCCL collectives themselves at
// cp >= 2 (ncclAlltoAll, ncclAllGather, ncclReduceScatter's own summation order).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "baseline/ag_rs_kernels.hpp"
#include "baseline/ag_rs_math.hpp"
#include "baseline/impls.hpp"
#include "baseline/packed_kernels.hpp"
#include "baseline/packed_rows.hpp"
#include "bench/catalog_impls.hpp"
#include "bench/runner.hpp"
#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/verify.hpp"
#include "core/world.hpp"
#include "merge/merge_kernel.hpp"
#include "merge/merge_plan.hpp"
#include "merge/reference.hpp"

namespace dcp::baseline {
namespace {

constexpr std::uint64_t kSeed = 0x5EEDull;

const World& world() {
  static int argc = 0;
  static char** argv = nullptr;
  static const World w(&argc, &argv, 20.0);
  return w;
}

const ImplCatalog& catalog() {
  static const ImplCatalog c{nccl_impls()};
  return c;
}

// ---- 1. the runner at cp = 1 ----------------------------------------------------------------

struct RunnerCase {
  std::string impl;
  Op op;
  std::int64_t entries;
  int head_dim;
  bool fp16;
  LseBase base;
  LaunchMode launch;
};

CaseResult run(const RunnerCase& rc, bench::CatalogImpls& impls) {
  Case c;
  c.op = rc.op;
  c.cp_size = 1;
  c.batch = rc.entries;
  c.head_dim = rc.head_dim;
  c.stats_dim = rc.op == Op::kReduce ? 1 : 2;
  if (rc.op == Op::kReduce) c.lse_base = rc.base;
  c.dtype = rc.fp16 ? DType::kFp16 : DType::kBf16;
  c.launch = rc.launch;
  ResolvedSweep sweep;
  sweep.spec.measure.warmup = 3;
  sweep.spec.measure.iters = 6;
  sweep.spec.measure.graph_calls = 3;
  sweep.spec.measure.ring = 3;
  sweep.spec.measure.timeout_s = 20;
  const ImplInfo* info = catalog().find(rc.impl);
  EXPECT_NE(info, nullptr);
  sweep.runs.push_back(PlannedRun{c, rc.impl, info});
  bench::SweepOutcome out = bench::run_sweep(sweep, impls, world(), {});
  EXPECT_FALSE(out.aborted) << out.abort_reason;
  EXPECT_EQ(out.results.size(), 1u);
  return out.results.front();
}

TEST(NcclReduceRunner, EveryStrategyAtOneRankIsBitIdenticalWithItsPartsTimed) {
  DCP_CUDA_CHECK(cudaSetDevice(0));
  bench::CatalogImpls impls(catalog(), &world());
  const std::vector<std::pair<std::string, std::size_t>> strategies = {
      {"nccl-2x", 2}, {"nccl-packed", 3}, {"nccl-ag-rs", 3}};
  for (const auto& [name, parts] : strategies) {
    for (std::int64_t e : {1, 37}) {
      for (LaunchMode launch : {LaunchMode::kEager, LaunchMode::kGraph}) {
        const bool fp16 = e == 37;
        const RunnerCase rc{
            name,  Op::kReduce, e, fp16 ? 128 : 512, fp16, fp16 ? LseBase::kTwo : LseBase::kE,
            launch};
        SCOPED_TRACE(name + " E " + std::to_string(e) + " " + std::string(to_string(launch)));
        const CaseResult r = run(rc, impls);
        EXPECT_EQ(r.status, CaseStatus::kOk) << r.error << r.skip_reason << r.verify.summary();
        ASSERT_TRUE(r.accuracy.has_value());
        EXPECT_GT(r.accuracy->rows_checked, 0u);
        EXPECT_TRUE(r.accuracy->identical()) << r.accuracy->summary();
        EXPECT_EQ(r.parts.size(), parts);
        EXPECT_FALSE(r.detail.empty());
      }
    }
  }
  // nccl-packed also runs the exchange (pack, all-to-all, unpack): bit-exact.
  const CaseResult x =
      run({"nccl-packed", Op::kExchange, 37, 128, false, LseBase::kE, LaunchMode::kGraph}, impls);
  EXPECT_EQ(x.status, CaseStatus::kOk) << x.error << x.verify.summary();
  EXPECT_FALSE(x.accuracy.has_value());
  EXPECT_GT(x.verify.rows_checked, 0u);
  EXPECT_EQ(x.parts.size(), 3u);
}

// ---- 2. the kernels at cp > 1, collectives emulated by host copies --------------------------

template <typename T>
DeviceMemory upload(const std::vector<T>& v) {
  DeviceMemory m(std::max<std::size_t>(v.size() * sizeof(T), 256));
  DCP_CUDA_CHECK(cudaMemcpy(m.get(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  return m;
}

template <typename T>
std::vector<T> download(const DeviceMemory& m, std::size_t n) {
  std::vector<T> v(n);
  DCP_CUDA_CHECK(cudaMemcpy(v.data(), m.get(), n * sizeof(T), cudaMemcpyDeviceToHost));
  return v;
}

struct RankInputs {
  std::vector<std::uint16_t> o;  ///< [E, cp, D]
  std::vector<float> lse;        ///< [E, cp]
};

std::vector<RankInputs> inputs(const merge::MergeShape& s, std::uint32_t call) {
  std::vector<RankInputs> in(static_cast<std::size_t>(s.cp));
  for (int r = 0; r < s.cp; ++r) {
    auto& x = in[static_cast<std::size_t>(r)];
    x.o.resize(static_cast<std::size_t>(s.recv_o_elements()));
    x.lse.resize(static_cast<std::size_t>(s.entries * s.cp));
    merge::fill_reduce_inputs_host(s, kSeed, call, r, x.o.data(), x.lse.data());
  }
  return in;
}

TEST(NcclReduceKernels, PackAndInPlaceMergeOfPackedRowsAreBitIdentical) {
  DCP_CUDA_CHECK(cudaSetDevice(0));
  for (int cp : {2, 4, 8}) {
    for (bool fp16 : {false, true}) {
      const merge::MergeShape s{cp, 45, fp16 ? 128 : 512, fp16, fp16 ? LseBase::kTwo : LseBase::kE};
      const PackedLayout l{s.entries, cp, s.head_dim, 1};
      const auto in = inputs(s, 3);
      const auto units = static_cast<std::size_t>(l.units());
      std::vector<std::vector<std::uint16_t>> send;
      for (int r = 0; r < cp; ++r) {
        const auto& x = in[static_cast<std::size_t>(r)];
        DeviceMemory o = upload(x.o), lse = upload(x.lse), packed(units * 2);
        launch_pack_rows(l, o.get(), lse.get(), packed.get(), nullptr);
        DCP_CUDA_CHECK(cudaDeviceSynchronize());
        send.push_back(download<std::uint16_t>(packed, units));
        // The host's pack of the same rows, unit by unit.
        std::vector<std::uint16_t> lse_units(x.lse.size() * 2);
        std::memcpy(lse_units.data(), x.lse.data(), x.lse.size() * 4);
        for (std::int64_t u = 0; u < l.units(); u += 7) {
          const PackedUnit pu = packed_unit(l, u);
          ASSERT_EQ(send.back()[static_cast<std::size_t>(u)],
                    packed_value(l, pu.in_row, pu.k, x.o.data(), lse_units.data()))
              << "cp " << cp << " unit " << u;
        }
      }
      const auto chunk = static_cast<std::size_t>(l.peer_units());
      const merge::MergePlan plan(s);
      for (int dst = 0; dst < cp; ++dst) {
        std::vector<std::uint16_t> recv(units);
        for (int src = 0; src < cp; ++src) {
          std::memcpy(&recv[static_cast<std::size_t>(src) * chunk],
                      &send[static_cast<std::size_t>(src)][static_cast<std::size_t>(dst) * chunk],
                      chunk * 2);
        }
        DeviceMemory r = upload(recv);
        DeviceMemory out(static_cast<std::size_t>(s.out_elements()) * 2),
            lse_out(static_cast<std::size_t>(s.entries) * 4);
        merge::MergeBuffers b{
            r.as<const std::uint16_t>(),
            reinterpret_cast<const float*>(r.as<const std::uint16_t>() + l.stats_offset()),
            1,
            out.as<std::uint16_t>(),
            lse_out.as<float>(),
            l.merge_strides()};
        plan.require_buffers(b);
        merge::launch_merge(plan, b, nullptr);
        DCP_CUDA_CHECK(cudaDeviceSynchronize());
        const merge::MergeOutputs want = merge::reference_merge(s, kSeed, 3, dst);
        EXPECT_EQ(download<std::uint16_t>(out, want.out.size()), want.out) << "cp " << cp;
        const auto got_lse = download<float>(lse_out, want.lse_out.size());
        EXPECT_EQ(std::memcmp(got_lse.data(), want.lse_out.data(), got_lse.size() * 4), 0);
      }
    }
  }
}

TEST(NcclReduceKernels, MergeOfTwoAllToAllsReceiveBuffersIsBitIdentical) {
  DCP_CUDA_CHECK(cudaSetDevice(0));
  for (int cp : {2, 4, 8}) {
    const merge::MergeShape s{cp, 33, 128, false, LseBase::kE};
    const auto in = inputs(s, 5);
    const merge::MergePlan plan(s);
    for (int dst = 0; dst < cp; ++dst) {
      // [cp(src), E, D] and [cp(src), E]: what the two all-to-alls deliver.
      std::vector<std::uint16_t> recv_o(static_cast<std::size_t>(s.recv_o_elements()));
      std::vector<float> recv_lse(static_cast<std::size_t>(s.entries * cp));
      for (int src = 0; src < cp; ++src) {
        for (std::int64_t e = 0; e < s.entries; ++e) {
          const auto from = static_cast<std::size_t>(e * cp + dst);
          const auto to = static_cast<std::size_t>(src * s.entries + e);
          std::memcpy(&recv_o[to * 128], &in[static_cast<std::size_t>(src)].o[from * 128], 256);
          recv_lse[to] = in[static_cast<std::size_t>(src)].lse[from];
        }
      }
      DeviceMemory ro = upload(recv_o), rl = upload(recv_lse);
      DeviceMemory out(static_cast<std::size_t>(s.out_elements()) * 2),
          lse_out(static_cast<std::size_t>(s.entries) * 4);
      const merge::MergeBuffers b{ro.as<const std::uint16_t>(),
                                  rl.as<const float>(),
                                  1,
                                  out.as<std::uint16_t>(),
                                  lse_out.as<float>(),
                                  merge::MergeStrides{128, s.entries * 128, 1, s.entries}};
      plan.require_buffers(b);
      merge::launch_merge(plan, b, nullptr);
      DCP_CUDA_CHECK(cudaDeviceSynchronize());
      const merge::MergeOutputs want = merge::reference_merge(s, kSeed, 5, dst);
      EXPECT_EQ(download<std::uint16_t>(out, want.out.size()), want.out) << "cp " << cp;
      const auto got_lse = download<float>(lse_out, want.lse_out.size());
      EXPECT_EQ(std::memcmp(got_lse.data(), want.lse_out.data(), got_lse.size() * 4), 0);
    }
  }
}

TEST(NcclReduceKernels, UnpackGivesBitExactExchangeOutputs) {
  DCP_CUDA_CHECK(cudaSetDevice(0));
  for (int cp : {2, 4}) {
    const ExchangeShape shape{cp, 21, 72, 2, true};
    const PackedLayout l{shape.entries, cp, shape.head_dim, shape.stats_dim};
    const auto o_elems = static_cast<std::size_t>(shape.rows() * shape.head_dim);
    const auto s_elems = static_cast<std::size_t>(shape.rows() * shape.stats_dim);
    const auto units = static_cast<std::size_t>(l.units());
    std::vector<std::vector<std::uint16_t>> send;
    for (int r = 0; r < cp; ++r) {
      std::vector<std::uint16_t> o(o_elems);
      std::vector<std::uint32_t> st(s_elems);
      fill_inputs_host(shape, kSeed, 2, r, o.data(), st.data());
      DeviceMemory d_o = upload(o), d_s = upload(st), packed(units * 2);
      launch_pack_rows(l, d_o.get(), d_s.get(), packed.get(), nullptr);
      DCP_CUDA_CHECK(cudaDeviceSynchronize());
      send.push_back(download<std::uint16_t>(packed, units));
    }
    const auto chunk = static_cast<std::size_t>(l.peer_units());
    for (int dst = 0; dst < cp; ++dst) {
      std::vector<std::uint16_t> recv(units);
      for (int src = 0; src < cp; ++src) {
        std::memcpy(&recv[static_cast<std::size_t>(src) * chunk],
                    &send[static_cast<std::size_t>(src)][static_cast<std::size_t>(dst) * chunk],
                    chunk * 2);
      }
      DeviceMemory r = upload(recv), out_o(o_elems * 2), out_s(s_elems * 4);
      launch_unpack_rows(l, r.get(), out_o.get(), out_s.get(), nullptr);
      DCP_CUDA_CHECK(cudaDeviceSynchronize());
      const auto got_o = download<std::uint16_t>(out_o, o_elems);
      const auto got_s = download<std::uint32_t>(out_s, s_elems);
      const VerifyOutcome v = verify_outputs_host(shape, kSeed, 2, dst, got_o.data(), got_s.data());
      EXPECT_TRUE(v.ok()) << v.summary();
      EXPECT_EQ(v.rows_checked, static_cast<std::uint64_t>(shape.rows()));
    }
  }
}

TEST(NcclReduceKernels, AgRsKernelsMatchTheHostAndStayWithinTheBound) {
  DCP_CUDA_CHECK(cudaSetDevice(0));
  for (int cp : {2, 4, 8}) {
    for (bool fp16 : {false, true}) {
      const merge::MergeShape s{cp, 40, 128, fp16, fp16 ? LseBase::kE : LseBase::kTwo};
      const auto in = inputs(s, 11);
      const auto pairs = static_cast<std::size_t>(s.entries * cp);
      const int d = s.head_dim;
      std::vector<float> gathered;  // [cp(src), E, cp(dst)]: the all-gather
      for (const auto& x : in)
        gathered.insert(gathered.end(), x.lse.begin(), x.lse.end());
      DeviceMemory g = upload(gathered);
      // terms[r] = rank r's reduce-scatter send buffer [cp(dst), E, D].
      std::vector<std::vector<std::uint16_t>> terms;
      for (int r = 0; r < cp; ++r) {
        const auto& x = in[static_cast<std::size_t>(r)];
        DeviceMemory o = upload(x.o), scale(pairs * 4), t(pairs * static_cast<std::size_t>(d) * 2),
                     lse_out(static_cast<std::size_t>(s.entries) * 4);
        launch_ag_rs_weights(s, r, g.as<const float>(), scale.as<float>(), lse_out.as<float>(),
                             nullptr);
        launch_ag_rs_rescale(s, scale.as<const float>(), o.get(), t.get(), nullptr);
        DCP_CUDA_CHECK(cudaDeviceSynchronize());
        terms.push_back(download<std::uint16_t>(t, pairs * static_cast<std::size_t>(d)));
        // The host's arithmetic on the same values, bit for bit.
        for (std::int64_t e = 0; e < s.entries; ++e) {
          for (int p = 0; p < cp; ++p) {
            const std::int64_t pair = e * cp + p;
            const float sc =
                ag_rs_scale(gathered.data() + pair, s.entries * cp, cp, r, s.base, nullptr);
            for (int k = 0; k < d; k += 5) {
              ASSERT_EQ(terms.back()[static_cast<std::size_t>((p * s.entries + e) * d + k)],
                        ag_rs_term(sc, x.o.data() + pair * d + k, fp16))
                  << "cp " << cp << " rank " << r << " e " << e << " p " << p << " k " << k;
            }
          }
        }
        const merge::MergeOutputs want = merge::reference_merge(s, kSeed, 11, r);
        const auto got_lse = download<float>(lse_out, want.lse_out.size());
        EXPECT_EQ(std::memcmp(got_lse.data(), want.lse_out.data(), got_lse.size() * 4), 0)
            << "lse_out of rank " << r;
      }
      // The reduce-scatter emulated in ring order (chunk dst summed from rank dst + 1 around).
      for (int dst = 0; dst < cp; ++dst) {
        std::vector<std::uint16_t> out(static_cast<std::size_t>(s.out_elements()));
        for (std::int64_t i = 0; i < s.out_elements(); ++i) {
          const auto at = static_cast<std::size_t>(dst * s.out_elements() + i);
          std::uint16_t sum = terms[static_cast<std::size_t>((dst + 1) % cp)][at];
          for (int j = 2; j <= cp; ++j)
            sum = add_in_dtype(sum, terms[static_cast<std::size_t>((dst + j) % cp)][at], fp16);
          out[static_cast<std::size_t>(i)] = sum;
        }
        const merge::MergeOutputs want = merge::reference_merge(s, kSeed, 11, dst);
        const Accuracy a =
            merge::check_merge_host(s, kSeed, 11, dst, out.data(), want.lse_out.data());
        EXPECT_LE(a.cond_ulp_max, double{kAgRsUlpBound} * cp) << a.summary();
      }
    }
  }
}

}  // namespace
}  // namespace dcp::baseline
