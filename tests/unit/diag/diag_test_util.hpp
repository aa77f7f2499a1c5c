#pragma once
// Helpers shared by the diag rule tests: crafted rank facts and row lookup.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/diag_result.hpp"
#include "diag/rank_facts.hpp"

/// Expects `text` to contain `needle`, printing `text` otherwise.
#define EXPECT_HAS(text, needle) \
  EXPECT_NE(std::string(text).find(needle), std::string::npos) << "in: " << (text)

namespace dcp::diag::testing {

/// Rank r on `host` with an H200 and agreeing versions; UUID "GPU-000r" unless given.
inline RankFacts make_rank(int r, const std::string& host = "node0", const std::string& uuid = "") {
  RankFacts f;
  f.rank = r;
  f.local_rank = r;
  f.local_size = 2;
  f.host = host;
  f.device = r;
  f.visible_devices = 2;
  f.gpu_name = "NVIDIA H200";
  f.gpu_uuid = uuid.empty() ? "GPU-000" + std::to_string(r) : uuid;
  f.pci_bus_id = "00000000:1" + std::to_string(r) + ":00.0";
  f.visible_uuids = {"GPU-0000", "GPU-0001"};
  f.sm_count = 132;
  f.cc_major = 9;
  f.cc_minor = 0;
  f.driver_version = "13.0";
  f.runtime_version = "13.0";
  f.nccl_version = "2.28.9";
  f.nccl_compiled = "2.28.9";
  return f;
}

inline std::vector<RankFacts> two_ranks() {
  return {make_rank(0), make_rank(1)};
}

/// The row called `name` (and with these ranks, when given); a test failure when missing.
inline const DiagCheck& find(const std::vector<DiagCheck>& checks, const std::string& name,
                             std::vector<int> ranks = {}) {
  for (const auto& c : checks) {
    if (c.name == name && (ranks.empty() || c.ranks == ranks)) return c;
  }
  ADD_FAILURE() << "no check " << name;
  static DiagCheck none;
  return none;
}

/// Every FAIL and WARN row has a remedy; PASS and SKIP rows have none.
inline void expect_remedies(const std::vector<DiagCheck>& checks) {
  for (const auto& c : checks) {
    if (c.verdict == Verdict::kFail || c.verdict == Verdict::kWarn) {
      EXPECT_FALSE(c.remedy.empty()) << c.group << "/" << c.name << " " << to_string(c.verdict)
                                     << " has no remedy; hint: " << c.hint;
      EXPECT_FALSE(c.hint.empty()) << c.group << "/" << c.name << " has no hint";
    } else {
      EXPECT_TRUE(c.remedy.empty())
          << c.group << "/" << c.name << " " << to_string(c.verdict) << " has a remedy";
    }
  }
}

}  // namespace dcp::diag::testing
