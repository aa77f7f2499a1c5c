#include "diag/groups/nccl.hpp"

#include <fmt/format.h>

#include <charconv>

#include "diag/rules.hpp"

namespace dcp::diag {

std::optional<std::array<int, 3>> parse_nccl_version(std::string_view text) {
  std::array<int, 3> v{};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    const auto [next, ec] = std::from_chars(p, end, v[static_cast<std::size_t>(i)]);
    if (ec != std::errc() || v[static_cast<std::size_t>(i)] < 0) return std::nullopt;
    p = next;
    if (i < 2) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  if (p != end) return std::nullopt;
  return v;
}

std::vector<DiagCheck> nccl_checks(const std::vector<RankFacts>& ranks) {
  std::vector<int> older, newer, unknown;
  std::string compiled = ranks.empty() ? std::string() : ranks.front().nccl_compiled;
  for (const auto& r : ranks) {
    const auto loaded = parse_nccl_version(r.nccl_version);
    const auto built = parse_nccl_version(r.nccl_compiled);
    if (!loaded || !built) {
      unknown.push_back(r.rank);
    } else if (*loaded < *built) {
      older.push_back(r.rank);
    } else if (*loaded > *built) {
      newer.push_back(r.rank);
    }
  }
  const auto loaded_groups = distinct(ranks, [](const RankFacts& r) { return r.nccl_version; });
  const std::string fix_path = fmt::format(
      "put the NCCL the binary was built against ({}) first on every node: export "
      "LD_LIBRARY_PATH=<folder holding libnccl.so.{}>:$LD_LIBRARY_PATH, passed to every rank "
      "with mpirun -x LD_LIBRARY_PATH; or rebuild dcpbench against the loaded NCCL",
      compiled, compiled);

  DiagCheck v = job_row("nccl", "nccl_version");
  if (older.empty() && newer.empty() && unknown.empty()) {
    v.verdict = Verdict::kPass;
    v.value = fmt::format("loaded NCCL {} = compiled on every rank", compiled);
  } else {
    std::vector<std::string> parts;
    if (!older.empty()) {
      parts.push_back(fmt::format(
          "rank{} {} loaded an NCCL older than the compiled {} ({}): the headers describe "
          "device-API structures that library lacks (a 2.28.9 build crashed on 2.28.3)",
          older.size() == 1 ? "" : "s", format_ranks(older), compiled,
          describe_groups(loaded_groups)));
    }
    if (!newer.empty()) {
      parts.push_back(fmt::format(
          "rank{} {} loaded an NCCL newer than the compiled {}: the host API is compatible, but "
          "the device-API layouts changed at 2.29 and 2.30, so the nccl-device baselines are "
          "untested there",
          newer.size() == 1 ? "" : "s", format_ranks(newer), compiled));
    }
    if (!unknown.empty()) {
      parts.push_back(fmt::format("rank{} {}: the loaded or compiled NCCL version is unknown",
                                  unknown.size() == 1 ? "" : "s", format_ranks(unknown)));
    }
    v.verdict = older.empty() ? Verdict::kWarn : Verdict::kFail;
    v.value = "loaded NCCL differs from the compiled one";
    v.hint = fmt::format("{}", fmt::join(parts, "; "));
    v.remedy = fix_path;
  }

  DiagCheck a = job_row("nccl", "nccl_agreement");
  if (loaded_groups.size() <= 1) {
    a.verdict = Verdict::kPass;
    a.value =
        fmt::format("NCCL {} on every rank", ranks.empty() || ranks.front().nccl_version.empty()
                                                 ? std::string("(unknown)")
                                                 : ranks.front().nccl_version);
  } else {
    a.verdict = Verdict::kFail;
    a.value = "NCCL versions differ across ranks";
    a.hint = fmt::format(
        "loaded NCCL differs: {}; NCCL refuses a communicator whose ranks run different versions "
        "(\"Mismatched NCCL version detected\" at init)",
        describe_groups(loaded_groups));
    a.remedy =
        "install the same NCCL on every node and pass the same LD_LIBRARY_PATH to every rank "
        "(mpirun -x LD_LIBRARY_PATH)";
  }
  return {v, a};
}

}  // namespace dcp::diag
