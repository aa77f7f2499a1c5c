// The merge kernel (merge/merge_kernel.hpp) is bit-identical to the CPU reference
// (merge/reference.hpp) over cp 1..8 (and 16, 64), D in {64, 128, 512} (and 100: the scalar
// path), E up to 1500, bf16 and fp16, LSE base e and 2, LSE strides 1 and 3, fresh inputs on
// every call and outputs poisoned before each; and the device checker (merge/merge_checker.hpp)
// agrees with the host checker, including on outputs with a flipped bit and on poison.
// Exits 77 without a GPU (tests/gpu/gpu_test_main.cpp).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "merge/merge_checker.hpp"
#include "merge/merge_kernel.hpp"
#include "merge/merge_plan.hpp"
#include "merge/reference.hpp"

namespace dcp::merge {
namespace {

constexpr std::uint64_t kSeed = 0xD1CE5EEDull;

std::size_t sz(std::int64_t n) {
  return static_cast<std::size_t>(n);
}

/// Device buffers for one shape: delivered inputs with an LSE stride, and outputs.
struct DeviceMerge {
  MergeShape shape;
  std::int64_t lse_stride;
  DeviceMemory recv_o, recv_lse, out, lse_out;

  DeviceMerge(const MergeShape& s, std::int64_t stride)
      : shape(s),
        lse_stride(stride),
        recv_o(sz(std::max<std::int64_t>(1, s.recv_o_elements())) * 2),
        recv_lse(sz(std::max<std::int64_t>(1, s.entries * s.cp * stride)) * 4),
        out(sz(std::max<std::int64_t>(1, s.out_elements())) * 2),
        lse_out(sz(std::max<std::int64_t>(1, s.entries)) * 4) {}

  MergeBuffers buffers() const {
    return MergeBuffers{recv_o.as<const std::uint16_t>(), recv_lse.as<const float>(), lse_stride,
                        out.as<std::uint16_t>(),          lse_out.as<float>(),        std::nullopt};
  }

  /// Uploads the inputs rank `dst` receives for `call` (stats rows of `lse_stride` floats whose
  /// other elements hold a NaN that must never be read) and poisons the outputs.
  void prepare(std::uint32_t call, int dst) {
    std::vector<std::uint16_t> o(sz(shape.recv_o_elements()));
    std::vector<float> lse(sz(shape.entries * shape.cp));
    delivered_inputs_host(shape, kSeed, call, dst, o.data(), lse.data());
    std::vector<float> strided(lse.size() * sz(lse_stride), std::nanf("7"));
    for (std::size_t i = 0; i < lse.size(); ++i)
      strided[i * sz(lse_stride)] = lse[i];
    DCP_CUDA_CHECK(cudaMemcpy(recv_o.get(), o.data(), o.size() * 2, cudaMemcpyHostToDevice));
    DCP_CUDA_CHECK(
        cudaMemcpy(recv_lse.get(), strided.data(), strided.size() * 4, cudaMemcpyHostToDevice));
    DCP_CUDA_CHECK(cudaMemset(out.get(), 0xFF, out.bytes()));  // NaN patterns no merge writes
    DCP_CUDA_CHECK(cudaMemset(lse_out.get(), 0xFF, lse_out.bytes()));
  }

  MergeOutputs download() const {
    MergeOutputs r;
    r.out.resize(sz(shape.out_elements()));
    r.lse_out.resize(sz(shape.entries));
    DCP_CUDA_CHECK(cudaMemcpy(r.out.data(), out.get(), r.out.size() * 2, cudaMemcpyDeviceToHost));
    DCP_CUDA_CHECK(
        cudaMemcpy(r.lse_out.data(), lse_out.get(), r.lse_out.size() * 4, cudaMemcpyDeviceToHost));
    return r;
  }
};

void expect_same_accuracy(const Accuracy& device, const Accuracy& host) {
  EXPECT_EQ(device.rows_checked, host.rows_checked);
  EXPECT_EQ(device.rows_identical, host.rows_identical);
  EXPECT_EQ(device.elements_checked, host.elements_checked);
  EXPECT_EQ(device.values_differing, host.values_differing);
  EXPECT_EQ(device.first, host.first);
  // The ulp figures are distances to the fp64 exact merge, which each checker computes with its
  // own fp64 exp/log (CUDA's libdevice on the GPU, glibc on the host): the two references differ
  // by a few double ulps (2^-52 relative each), i.e. by about 2^-29 = 1.9e-9 float ulps per
  // double ulp. Measured on an H200 (2026-12-05): up to 4.5e-9. kSlack allows 500 double ulps
  // (1e-6 float ulps) per value, far below any real disagreement (>= 1 float ulp).
  constexpr double kSlack = 1e-6;
  auto near = [](double a, double b, double values) {
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return std::fabs(a - b) <= kSlack * std::max(1.0, values);
  };
  const double elements = static_cast<double>(host.elements_checked);
  const double rows = static_cast<double>(host.rows_checked);
  EXPECT_TRUE(near(device.ulp_max, host.ulp_max, 1)) << device.ulp_max << " vs " << host.ulp_max;
  EXPECT_TRUE(near(device.ulp_sum, host.ulp_sum, elements))
      << device.ulp_sum << " vs " << host.ulp_sum;
  EXPECT_TRUE(near(device.lse_ulp_max, host.lse_ulp_max, 1))
      << device.lse_ulp_max << " vs " << host.lse_ulp_max;
  EXPECT_TRUE(near(device.lse_ulp_sum, host.lse_ulp_sum, rows))
      << device.lse_ulp_sum << " vs " << host.lse_ulp_sum;
}

struct Case {
  int cp;
  int d;
  std::int64_t e;
};

std::vector<Case> cases() {
  std::vector<Case> r;
  for (int cp = 1; cp <= 8; ++cp) {
    for (int d : {64, 128, 512}) {
      for (std::int64_t e :
           {std::int64_t{1}, std::int64_t{37}, std::int64_t{d == 512 ? 700 : 1500}}) {
        r.push_back({cp, d, e});
      }
    }
  }
  r.push_back({16, 128, 300});
  r.push_back({64, 64, 200});
  r.push_back({5, 100, 333});  // D % 8 != 0: one element per chunk
  return r;
}

TEST(MergeKernel, BitIdenticalToTheCpuReference) {
  DeviceMergeChecker checker;
  for (const Case& c : cases()) {
    for (int variant = 0; variant < 4; ++variant) {
      const MergeShape shape{c.cp, c.e, c.d, (variant & 1) != 0,
                             (variant & 2) != 0 ? LseBase::kTwo : LseBase::kE};
      const std::int64_t stride = (c.cp + variant) % 3 == 0 ? 3 : 1;
      const MergePlan plan(shape);
      DeviceMerge dm(shape, stride);
      plan.require_buffers(dm.buffers());
      for (std::uint32_t call = 0; call < 2; ++call) {
        const int dst = static_cast<int>((call + static_cast<std::uint32_t>(variant)) %
                                         static_cast<std::uint32_t>(c.cp));
        dm.prepare(call, dst);
        launch_merge(plan, dm.buffers(), nullptr);
        DCP_CUDA_CHECK(cudaDeviceSynchronize());
        const MergeOutputs got = dm.download();
        const MergeOutputs want = reference_merge(shape, kSeed, call, dst);
        SCOPED_TRACE(testing::Message() << "cp " << c.cp << " D " << c.d << " E " << c.e << " fp16 "
                                        << shape.fp16 << " base2 " << (shape.base == LseBase::kTwo)
                                        << " stride " << stride << " call " << call);
        ASSERT_EQ(got.out, want.out);
        ASSERT_EQ(got.lse_out.size(), want.lse_out.size());
        for (std::size_t i = 0; i < got.lse_out.size(); ++i) {
          ASSERT_EQ(float_bits(got.lse_out[i]), float_bits(want.lse_out[i])) << "entry " << i;
        }
        checker.enqueue(shape, kSeed, call, dst, dm.out.as<std::uint16_t>(), dm.lse_out.as<float>(),
                        nullptr);
        DCP_CUDA_CHECK(cudaDeviceSynchronize());
        const Accuracy device = checker.collect();
        const Accuracy host =
            check_merge_host(shape, kSeed, call, dst, got.out.data(), got.lse_out.data());
        EXPECT_TRUE(device.identical());
        EXPECT_EQ(device.rows_checked, static_cast<std::uint64_t>(c.e));
        expect_same_accuracy(device, host);
      }
    }
  }
}

// The checkers agree on wrong outputs too: a flipped bit (located the same way), a wrong
// lse_out, untouched poison, and accumulation over several enqueues.
TEST(MergeKernel, DeviceCheckerAgreesOnWrongOutputs) {
  const MergeShape shape{4, 257, 128, true, LseBase::kTwo};
  const MergePlan plan(shape);
  DeviceMerge dm(shape, 1);
  DeviceMergeChecker checker;
  dm.prepare(3, 2);
  launch_merge(plan, dm.buffers(), nullptr);
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
  MergeOutputs good = dm.download();

  // Two flipped elements and one lse_out: the lowest (entry, element) is reported.
  MergeOutputs bad = good;
  bad.out[sz(200 * 128 + 5)] ^= 0x0100u;
  bad.out[sz(17 * 128 + 90)] ^= 0x0001u;
  bad.lse_out[sz(17)] = bits_float(float_bits(bad.lse_out[sz(17)]) ^ 1u);
  DCP_CUDA_CHECK(
      cudaMemcpy(dm.out.get(), bad.out.data(), bad.out.size() * 2, cudaMemcpyHostToDevice));
  DCP_CUDA_CHECK(cudaMemcpy(dm.lse_out.get(), bad.lse_out.data(), bad.lse_out.size() * 4,
                            cudaMemcpyHostToDevice));
  checker.enqueue(shape, kSeed, 3, 2, dm.out.as<std::uint16_t>(), dm.lse_out.as<float>(), nullptr);
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
  const Accuracy device = checker.collect();
  const Accuracy host = check_merge_host(shape, kSeed, 3, 2, bad.out.data(), bad.lse_out.data());
  EXPECT_EQ(device.rows_identical, device.rows_checked - 2);
  EXPECT_EQ(device.values_differing, 3u);
  ASSERT_TRUE(device.first.has_value());
  EXPECT_EQ(device.first->entry, 17);
  EXPECT_EQ(device.first->element, 90);
  expect_same_accuracy(device, host);

  // Poison left in place (no merge ran).
  dm.prepare(4, 2);
  checker.enqueue(shape, kSeed, 4, 2, dm.out.as<std::uint16_t>(), dm.lse_out.as<float>(), nullptr);
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
  const Accuracy poisoned = checker.collect();
  const MergeOutputs poison = dm.download();
  expect_same_accuracy(
      poisoned, check_merge_host(shape, kSeed, 4, 2, poison.out.data(), poison.lse_out.data()));
  EXPECT_EQ(poisoned.rows_identical, 0u);
  EXPECT_TRUE(std::isinf(poisoned.ulp_max));

  // Several enqueues accumulate; the first difference is the first enqueue's.
  Accuracy host_total;
  for (std::uint32_t call = 5; call < 8; ++call) {
    dm.prepare(call, 1);
    launch_merge(plan, dm.buffers(), nullptr);
    DCP_CUDA_CHECK(cudaDeviceSynchronize());
    MergeOutputs out = dm.download();
    if (call >= 6) {  // corrupt calls 6 and 7
      out.out[sz(call * 3)] ^= 0x8000u;
      DCP_CUDA_CHECK(
          cudaMemcpy(dm.out.get(), out.out.data(), out.out.size() * 2, cudaMemcpyHostToDevice));
    }
    checker.enqueue(shape, kSeed, call, 1, dm.out.as<std::uint16_t>(), dm.lse_out.as<float>(),
                    nullptr);
    host_total.merge(check_merge_host(shape, kSeed, call, 1, out.out.data(), out.lse_out.data()));
  }
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
  const Accuracy total = checker.collect();
  expect_same_accuracy(total, host_total);
  ASSERT_TRUE(total.first.has_value());
  EXPECT_EQ(total.first->call, 6u);
}

TEST(MergeKernel, NothingToMerge) {
  const MergeShape shape{3, 0, 64, false, LseBase::kE};
  const MergePlan plan(shape);
  EXPECT_EQ(plan.ctas(), 0);
  launch_merge(plan, MergeBuffers{}, nullptr);  // E = 0: no launch, no buffer touched
  DCP_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace
}  // namespace dcp::merge
