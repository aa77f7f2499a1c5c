#include "kernels/direct_hang.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.hpp"
#include "kernels/direct_workspace.hpp"

namespace dcp::kernels::direct {

std::uint64_t awaited_epoch(const RankFlagWords& w, FlagUse use) {
  DCP_CHECK(w.header.size() == static_cast<std::size_t>(kHeaderBytes / 8),
            "direct hang: header words of the wrong size");
  const ErrorInfo e = decode_error(w.header.data());
  if (e.valid) return e.epoch;
  const std::uint64_t word = w.header[kEpochWord];
  return use == FlagUse::kPerPair && word > 0 ? word - 1 : word;
}

HangReport decode_direct_hang(const Geometry& g, const Layout& layout, FlagUse use,
                              std::span<const RankFlagWords> ranks, double timeout_s) {
  const auto flag_words = static_cast<std::size_t>(g.flags_bytes() / kFlagBytes);
  HangReport report;
  report.ranks = static_cast<int>(ranks.size());
  report.peers = g.cp_size;
  std::vector<ErrorInfo> errors;
  for (const RankFlagWords& w : ranks) {
    DCP_CHECK(w.flags.size() == flag_words, "direct hang: flag words of the wrong size");
    const ErrorInfo e = decode_error(w.header.data());
    if (e.valid) errors.push_back(e);
  }
  std::stable_sort(errors.begin(), errors.end(), [](const ErrorInfo& a, const ErrorInfo& b) {
    return (a.role == ErrorRole::kAbort) < (b.role == ErrorRole::kAbort);
  });
  for (const ErrorInfo& e : errors)
    report.errors.push_back(describe_error(e, timeout_s));

  const std::uint32_t slots = use == FlagUse::kPerPair ? 1u : layout.blocks;
  for (const RankFlagWords& w : ranks) {
    const std::uint64_t epoch = awaited_epoch(w, use);
    const std::uint32_t parity = parity_of(epoch);
    for (int src = 0; src < g.cp_size; ++src) {
      std::uint32_t arrived = 0;
      std::int64_t first_missing = -1;
      std::uint64_t seen = 0;
      for (std::uint32_t b = 0; b < slots; ++b) {
        const auto at =
            static_cast<std::size_t>((g.flag_offset(parity, b, src) - kHeaderBytes) / kFlagBytes);
        if (flag_state(w.flags[at], epoch) == FlagState::kArrived) {
          ++arrived;
        } else if (first_missing < 0) {
          first_missing = b;
          seen = w.flags[at];
        }
      }
      if (first_missing < 0) continue;
      report.errors.push_back(fmt::format(
          "rank {} from peer {}: {} of {} {} flags of epoch {} arrived; first missing {} {} holds "
          "{} (awaited {})",
          w.rank, src, arrived, slots, use == FlagUse::kPerPair ? "pair" : "block", epoch,
          use == FlagUse::kPerPair ? "slot" : "block", first_missing, seen, flag_for(epoch)));
    }
  }
  return report;
}

}  // namespace dcp::kernels::direct
