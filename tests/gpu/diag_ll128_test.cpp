// The ll128_order probe's kernels on one GPU: a self-test of the counting, not of a fabric (one
// GPU shares one L2 and cannot show ordering failures; the two-GPU run is `mpirun -np 2 dcpbench
// diag --checks ll128_order`). The writer and the reader run on two streams of one GPU over a
// ring in local memory:
//  - a correct writer: every line classified, the shipped variant (flag last, read after flag)
//    tears 0 times;
//  - a writer that deliberately publishes torn lines (a word of another round under the right
//    flag, every n-th line): the reader must count exactly those in the shipped variant, and at
//    least those in every variant;
//  - a reader without a writer, and a writer without a reader: both stop at the no-progress
//    timeout and name the line, never hang.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "core/cuda_check.hpp"
#include "core/cuda_raii.hpp"
#include "core/error.hpp"
#include "diag/ll128_line.hpp"
#include "diag/ll128_probe.hpp"
#include "diag/probes.hpp"

namespace dcp::diag {
namespace {

using ll128probe::FlagLayout;

constexpr std::uint32_t kRing = 256;

struct PairRun {
  Ll128WriterOutcome writer;
  Ll128ReaderOutcome reader;
};

/// Writer and reader of one layout over a zeroed local ring.
PairRun run_pair(FlagLayout layout, std::uint64_t lines, std::uint64_t inject_every,
                 std::uint32_t epoch) {
  const DeviceMemory ring(static_cast<std::size_t>(kRing) * ll128probe::kLineBytes);
  const DeviceMemory credit(128);
  DCP_CUDA_CHECK(cudaMemset(ring.get(), 0, ring.bytes()));
  DCP_CUDA_CHECK(cudaMemset(credit.get(), 0, credit.bytes()));
  Ll128ProbeParams p;
  p.lines = lines;
  p.ring_lines = kRing;
  p.credit_every = kRing / 4;
  p.epoch = epoch;
  p.layout = layout;
  p.inject_every = inject_every;
  p.timeout_s = 5.0;
  Ll128Probe probe;
  const Stream reader;
  const Stream writer;
  probe.launch_reader(ring.get(), credit.as<std::uint64_t>(), p, reader.get());
  probe.launch_writer(ring.get(), credit.as<std::uint64_t>(), p, writer.get());
  wait_bounded(writer.get(), 60.0, "ll128 writer");
  wait_bounded(reader.get(), 60.0, "ll128 reader");
  return {probe.writer_outcome(), probe.reader_outcome()};
}

TEST(DiagLl128Probe, CorrectWriterShippedLayoutNeverTears) {
  constexpr std::uint64_t kLines = 1'000'000;
  const PairRun r = run_pair(FlagLayout::kFlagLast, kLines, 0, 11);
  EXPECT_FALSE(r.writer.timed_out);
  EXPECT_FALSE(r.reader.timed_out);
  EXPECT_EQ(r.writer.lines, kLines);
  EXPECT_EQ(r.reader.lines, kLines);
  EXPECT_EQ(r.reader.torn_after_flag, 0u);
  std::printf("same GPU, flag last: %llu single-read tears of %llu lines in %.3f s\n",
              static_cast<unsigned long long>(r.reader.torn_single),
              static_cast<unsigned long long>(r.reader.lines), r.reader.seconds);
  const PairRun f = run_pair(FlagLayout::kFlagFirst, kLines, 0, 12);
  EXPECT_EQ(f.reader.lines, kLines);
  std::printf("same GPU, flag first: %llu single-read / %llu after-flag tears\n",
              static_cast<unsigned long long>(f.reader.torn_single),
              static_cast<unsigned long long>(f.reader.torn_after_flag));
}

TEST(DiagLl128Probe, DeliberateTearsAreCounted) {
  constexpr std::uint64_t kLines = 100'000;
  constexpr std::uint64_t kEvery = 7;
  const std::uint64_t expected = ll128probe::injected_lines(kLines, kEvery);
  ASSERT_GT(expected, 0u);
  for (const auto layout : {FlagLayout::kFlagLast, FlagLayout::kFlagFirst}) {
    const PairRun r = run_pair(layout, kLines, kEvery, layout == FlagLayout::kFlagLast ? 21 : 22);
    ASSERT_FALSE(r.reader.timed_out);
    EXPECT_EQ(r.reader.lines, kLines);
    EXPECT_GE(r.reader.torn_single, expected);
    EXPECT_GE(r.reader.torn_after_flag, expected);
    EXPECT_GE(r.reader.first_torn_line, 0);
    EXPECT_LE(r.reader.first_torn_line, static_cast<std::int64_t>(kEvery - 1));
    if (layout == FlagLayout::kFlagLast) {
      EXPECT_EQ(r.reader.torn_after_flag, expected);
    }
  }
}

TEST(DiagLl128Probe, ReaderWithoutWriterStopsAtTheTimeout) {
  const DeviceMemory ring(static_cast<std::size_t>(kRing) * ll128probe::kLineBytes);
  const DeviceMemory credit(128);
  DCP_CUDA_CHECK(cudaMemset(ring.get(), 0, ring.bytes()));
  Ll128ProbeParams p;
  p.lines = 1024;
  p.ring_lines = kRing;
  p.credit_every = kRing / 4;
  p.epoch = 31;
  p.timeout_s = 0.2;
  Ll128Probe probe;
  const Stream s;
  const auto start = std::chrono::steady_clock::now();
  probe.launch_reader(ring.get(), credit.as<std::uint64_t>(), p, s.get());
  wait_bounded(s.get(), 10.0, "ll128 reader");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  const Ll128ReaderOutcome o = probe.reader_outcome();
  EXPECT_TRUE(o.timed_out);
  EXPECT_EQ(o.stalled_at_line, 0u);
  EXPECT_EQ(o.lines, 0u);
}

TEST(DiagLl128Probe, WriterWithoutReaderStopsWhenTheRingIsFull) {
  const DeviceMemory ring(static_cast<std::size_t>(kRing) * ll128probe::kLineBytes);
  const DeviceMemory credit(128);
  DCP_CUDA_CHECK(cudaMemset(credit.get(), 0, credit.bytes()));
  Ll128ProbeParams p;
  p.lines = 4 * kRing;
  p.ring_lines = kRing;
  p.credit_every = kRing / 4;
  p.epoch = 32;
  p.timeout_s = 0.2;
  Ll128Probe probe;
  const Stream s;
  probe.launch_writer(ring.get(), credit.as<std::uint64_t>(), p, s.get());
  wait_bounded(s.get(), 10.0, "ll128 writer");
  const Ll128WriterOutcome o = probe.writer_outcome();
  EXPECT_TRUE(o.timed_out);
  EXPECT_EQ(o.stalled_at_line, kRing);  // no credit: exactly one ring written
  EXPECT_EQ(o.lines, kRing);
}

TEST(DiagLl128Probe, BadParametersAreRefused) {
  Ll128ProbeParams p;
  p.lines = 6;  // not a multiple of 4
  p.ring_lines = kRing;
  p.credit_every = kRing / 4;
  EXPECT_THROW(validate_ll128_params(p), Error);
  p.lines = 8;
  p.credit_every = 3;
  EXPECT_THROW(validate_ll128_params(p), Error);
  p.credit_every = kRing / 4;
  EXPECT_NO_THROW(validate_ll128_params(p));
}

}  // namespace
}  // namespace dcp::diag
