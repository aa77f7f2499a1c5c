// Group `shm`: the /dev/shm rule on crafted sizes (healthy, Docker's default with several ranks,
// too little for the ranks, below NCCL's advice, missing) and the statvfs probe on real paths.
#include <gtest/gtest.h>

#include "diag/groups/shm.hpp"
#include "diag/rules.hpp"
#include "diag_test_util.hpp"

namespace dcp::diag {
namespace {

using testing::expect_remedies;
using testing::make_rank;
using testing::two_ranks;

ShmFacts shm(std::uint64_t total, std::uint64_t avail) {
  ShmFacts f;
  f.path = "/dev/shm";
  f.ok = true;
  f.total_bytes = total;
  f.avail_bytes = avail;
  return f;
}

constexpr std::uint64_t kMiB = 1ULL << 20;
constexpr std::uint64_t kGiB = 1ULL << 30;

TEST(DiagShm, LargeShmPassesOneRowPerHost) {
  const auto rows = shm_checks(two_ranks(), {shm(64 * kGiB, 60 * kGiB), shm(64 * kGiB, 61 * kGiB)});
  ASSERT_EQ(rows.size(), 1u);  // both ranks on node0, same /dev/shm
  EXPECT_EQ(rows[0].name, "shm_size");
  EXPECT_EQ(rows[0].verdict, Verdict::kPass);
  EXPECT_EQ(rows[0].ranks, (std::vector<int>{0, 1}));
  EXPECT_HAS(rows[0].value, "host node0: 61440 MiB available of 65536 MiB, 2 ranks on the host");
  EXPECT_EQ(rows[0].unit, "B");
  EXPECT_EQ(*rows[0].number, static_cast<double>(60 * kGiB));  // the smaller, in bytes
}

TEST(DiagShm, DockerDefaultWithSeveralRanksFails) {
  const auto rows = shm_checks(two_ranks(), {shm(64 * kMiB, 64 * kMiB), shm(64 * kMiB, 64 * kMiB)});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].verdict, Verdict::kFail);
  EXPECT_HAS(rows[0].hint, "Docker's default");
  EXPECT_HAS(rows[0].remedy, "--shm-size=1g");
  expect_remedies(rows);
}

TEST(DiagShm, DockerDefaultWithOneRankWarns) {
  const auto rows = shm_checks({make_rank(0)}, {shm(64 * kMiB, 64 * kMiB)});
  EXPECT_EQ(rows[0].verdict, Verdict::kWarn);
  EXPECT_HAS(rows[0].hint, "below the 1 GiB");
}

TEST(DiagShm, TooLittleAvailableForTheRanksFails) {
  std::vector<RankFacts> ranks;
  std::vector<ShmFacts> facts;
  for (int r = 0; r < 8; ++r) {
    ranks.push_back(make_rank(r));
    facts.push_back(shm(512 * kMiB, 200 * kMiB));
  }
  const auto rows = shm_checks(ranks, facts);
  EXPECT_EQ(rows[0].verdict, Verdict::kFail);
  EXPECT_HAS(rows[0].hint, "below the estimated 256 MiB for 8 ranks");
}

TEST(DiagShm, BelowAdviceWarnsAndNamesNccl231) {
  auto ranks = two_ranks();
  for (auto& r : ranks)
    r.nccl_version = "2.31.0";
  const auto rows = shm_checks(ranks, {shm(512 * kMiB, 500 * kMiB), shm(512 * kMiB, 500 * kMiB)});
  EXPECT_EQ(rows[0].verdict, Verdict::kWarn);
  EXPECT_HAS(rows[0].hint, "NCCL 2.31.0 is reported to need more");
}

TEST(DiagShm, MissingShmFails) {
  ShmFacts missing;
  missing.path = "/dev/shm";
  missing.error = "statvfs(/dev/shm) failed: No such file or directory";
  const auto rows = shm_checks({make_rank(0)}, {missing});
  EXPECT_EQ(rows[0].verdict, Verdict::kFail);
  EXPECT_HAS(rows[0].hint, "No such file");
  expect_remedies(rows);
}

TEST(DiagShm, HostsAndSizesGroupSeparately) {
  const std::vector<RankFacts> ranks{make_rank(0, "a"), make_rank(1, "a"), make_rank(2, "b")};
  const auto rows = shm_checks(
      ranks, {shm(2 * kGiB, 2 * kGiB), shm(2 * kGiB, 2 * kGiB), shm(64 * kMiB, 64 * kMiB)});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].verdict, Verdict::kPass);
  EXPECT_EQ(rows[1].ranks, std::vector<int>{2});
  EXPECT_EQ(rows[1].verdict, Verdict::kWarn);  // one rank on host b
}

TEST(DiagShm, ProbeReadsARealFileSystemAndReportsAMissingOne) {
  const ShmFacts tmp = probe_shm("/tmp");
  EXPECT_TRUE(tmp.ok) << tmp.error;
  EXPECT_GT(tmp.total_bytes, 0u);
  EXPECT_LE(tmp.avail_bytes, tmp.total_bytes);
  const ShmFacts none = probe_shm("/nonexistent/shm");
  EXPECT_FALSE(none.ok);
  EXPECT_HAS(none.error, "statvfs(/nonexistent/shm) failed");
}

}  // namespace
}  // namespace dcp::diag
