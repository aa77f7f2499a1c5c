// The wire format of every group's facts (JSON text gathered across ranks): a round trip of a
// non-default value of each type, and malformed text refused with dcp::Error.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "diag/groups.hpp"
#include "diag_test_util.hpp"

namespace dcp::diag {
namespace {

template <typename T>
void expect_round_trip(const T& v) {
  T back{};
  decode(encode(v), back);
  EXPECT_EQ(back, v);
}

TEST(DiagWire, EveryFactsTypeRoundTrips) {
  RankFacts r = testing::make_rank(1);
  r.cvd_set = true;
  r.cvd = "3";
  r.cuda_ready = false;
  r.cuda_error = kCudaErrorSystemNotReady;
  r.cuda_error_name = "cudaErrorSystemNotReady";
  expect_round_trip(r);

  expect_round_trip(std::vector<PeerFacts>{PeerFacts{0, 1, true, 1, 1, 0, 1, 1, "e"}});
  NvlinkFacts n;
  n.nvml_available = n.supported = true;
  n.bus_id = "00000000:10:00.0";
  n.links = {LinkFacts{0, true, "00000000:a0:00.0", "switch"}, LinkFacts{1, false, "", "unknown"}};
  expect_round_trip(n);
  expect_round_trip(CumemFacts{true, false, true, "x"});
  expect_round_trip(IpcFacts{true, false, "d", "e"});
  FabricFacts f;
  f.attribute = true;
  f.cu_result = 800;
  f.cu_name = "CUDA_ERROR_NOT_PERMITTED";
  f.bytes = 2 << 20;
  expect_round_trip(f);
  expect_round_trip(
      std::vector<FabricImportFacts>{FabricImportFacts{1, 0, true, false, 800, "a", "b", "c"}});
  VisibilityFacts v;
  v.write_expected = 0xffffffffu;
  v.read_first_bad = -1;
  expect_round_trip(std::vector<VisibilityFacts>{v});
  LatencyFacts l;
  l.from = 0;
  l.to = 1;
  l.p50_s = 0.7e-6;
  expect_round_trip(std::vector<LatencyFacts>{l});
  BandwidthFacts b;
  b.Bps = 392e9;
  b.bytes = 256 << 20;
  expect_round_trip(std::vector<BandwidthFacts>{b});
  SmokeFacts s;
  s.ran = true;
  s.p50_s = 2e-5;
  expect_round_trip(s);

  ShmFacts shm{"/dev/shm", true, "", 64ULL << 20, 60ULL << 20};
  expect_round_trip(shm);
  FabricManagerFacts fm;
  fm.nvml_available = fm.queried = true;
  fm.state = 3;
  fm.health_mask = 0x1a9;
  fm.cluster_uuid = "11111111-1111-1111-1111-111111111111";
  expect_round_trip(fm);
  ImexFacts im;
  im.channel0_exists = true;
  im.clique_id = 4;
  expect_round_trip(im);
  PcieFacts pc;
  pc.ok = true;
  pc.chain = {BridgeFacts{"0000:02:08.0", true, true, 0x1d}};
  pc.iommu_group = 40;
  pc.iommu_type = "DMA";
  expect_round_trip(pc);
  StoreLoadFacts sl;
  sl.from = 1;
  sl.loaded = 0xffffffffffffffffULL;  // survives JSON (unsigned 64-bit)
  sl.timed_out = true;
  expect_round_trip(std::vector<StoreLoadFacts>{sl});
  Ll128OrderFacts ll;
  ll.writer = 1;
  ll.flag_first.lines = 10'000'000'000ULL;
  ll.flag_first.first_torn_line = 5;
  ll.flag_last.stalled_side = "reader";
  expect_round_trip(std::vector<Ll128OrderFacts>{ll});
}

TEST(DiagWire, MalformedTextThrows) {
  RankFacts r;
  EXPECT_THROW(decode("{\"rank\": ", r), Error);
  EXPECT_THROW(decode("{}", r), Error);
  ShmFacts s;
  EXPECT_THROW(decode("[]", s), Error);
  std::vector<Ll128OrderFacts> l;
  EXPECT_THROW(decode("{\"writer\": 1}", l), Error);
}

}  // namespace
}  // namespace dcp::diag
