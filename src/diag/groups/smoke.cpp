#include "diag/groups/smoke.hpp"

#include <fmt/format.h>

#include "diag/rules.hpp"
#include "diag/wire.hpp"
#include "report/diag_report.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SmokeFacts, ran, skip_reason, case_key, status, exact, verify,
                                   p50_s, error, note)

std::string encode(const SmokeFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, SmokeFacts& out) {
  wire::decode(text, out, "smoke-test facts");
}

DiagCheck smoke_check(const SmokeFacts& f) {
  DiagCheck c = job_row("smoke", "native_smoke");
  const std::string note = f.note.empty() ? "" : "; " + f.note;
  constexpr std::string_view kRemedy =
      "fix the failing rows above first (workspace, store_load, visibility, paths); if they all "
      "pass, report this output (dcpbench diag --json) and use --impl nccl-* meanwhile";
  if (!f.ran) {
    c.verdict = Verdict::kSkip;
    c.hint = f.skip_reason.empty() ? "not run" : f.skip_reason;
  } else if (!f.error.empty()) {
    c.verdict = Verdict::kFail;
    c.value = f.case_key;
    c.hint = "the native exchange failed: " + f.error;
    c.remedy = std::string(kRemedy);
  } else if (f.status == "skipped") {
    c.verdict = Verdict::kSkip;
    c.value = f.case_key;
    c.hint = f.skip_reason.empty() ? "the runner skipped the case" : f.skip_reason;
  } else if (!f.exact || f.status != "ok") {
    c.verdict = Verdict::kFail;
    c.value = fmt::format("{}: {}", f.status, f.case_key);
    c.hint = fmt::format("the native exchange is not bit-exact here: {}{}", f.verify, note);
    c.remedy = std::string(kRemedy);
  } else {
    const auto p50 = report::display_value(f.p50_s, "s");
    c.verdict = Verdict::kPass;
    c.value = fmt::format("bit-exact ({}), p50 {} per exchange; {}{}", f.verify, p50.text,
                          f.case_key, note);
    c.number = p50.number;
    c.unit = p50.unit;
  }
  return c;
}

}  // namespace dcp::diag
