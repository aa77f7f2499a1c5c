#pragma once
/// @file
/// Check group `smoke`: one native-exchange case through the sweep runner (cp = ranks, batch
/// 16, D 128, S 2, bf16, eager, PDL), every output verified bit-exact. Run:
/// groups/smoke_run.cpp, whose seam (run_smoke_case) receives the implementation it runs.

#include <string>
#include <string_view>

#include "core/diag_result.hpp"
#include "diag/group_info.hpp"

namespace dcp::diag {

inline constexpr CheckGroupInfo kSmokeGroup{
    "smoke",
    "native exchange smoke test through the sweep runner (cp = ranks; one case, eager, verified "
    "bit-exact)",
    true};

/// The native-exchange smoke test (identical on every rank after the runner's reductions).
struct SmokeFacts {
  bool ran = false;
  std::string skip_reason;
  std::string case_key;  ///< Case::key() of the one case
  std::string status;    ///< CaseStatus as text ("ok", "verify_failed", "skipped", "error")
  bool exact = false;    ///< every verified output bit-exact
  std::string verify;    ///< VerifyOutcome::summary()
  double p50_s = 0;      ///< per-exchange p50 of the few timed calls
  std::string error;
  std::string note;  ///< e.g. "single rank: simulated cp=2 on one GPU"

  friend bool operator==(const SmokeFacts&, const SmokeFacts&) = default;
};

std::string encode(const SmokeFacts& f);
void decode(std::string_view text, SmokeFacts& out);

/// One job "native_smoke" row: PASS when bit-exact, FAIL otherwise, SKIP with the reason.
DiagCheck smoke_check(const SmokeFacts& facts);

}  // namespace dcp::diag
