#include "kernels/native_collective.hpp"

#include <fmt/format.h>

#include <vector>

namespace dcp::kernels {

std::string describe_plan(const PlanWire& p) {
  return fmt::format("channels={} warps={} geometry=cp{}xC{}xdepth{}x{}lines", p.channels,
                     p.single_warp != 0 ? "single" : "split", p.cp_size, p.max_channels, p.depth,
                     p.slot_lines);
}

namespace {

std::string rank_list(const std::vector<int>& ranks) {
  std::string out = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i)
    out += (i == 0 ? "" : ", ") + std::to_string(ranks[i]);
  return out;
}

}  // namespace

std::optional<std::string> plan_disagreement(std::span<const PlanWire> plans) {
  std::vector<int> cannot;
  for (std::size_t r = 0; r < plans.size(); ++r) {
    if (plans[r].ok == 0) cannot.push_back(static_cast<int>(r));
  }
  if (!cannot.empty()) {
    return fmt::format("native: {} cannot run this case (see {} message), so no rank runs it",
                       rank_list(cannot), cannot.size() == 1 ? "its" : "their");
  }
  // Distinct plans in order of first appearance, with the ranks holding each.
  std::vector<PlanWire> distinct;
  std::vector<std::vector<int>> holders;
  for (std::size_t r = 0; r < plans.size(); ++r) {
    std::size_t k = 0;
    while (k < distinct.size() && !(distinct[k] == plans[r]))
      ++k;
    if (k == distinct.size()) {
      distinct.push_back(plans[r]);
      holders.emplace_back();
    }
    holders[k].push_back(static_cast<int>(r));
  }
  if (distinct.size() <= 1) return std::nullopt;
  std::string list;
  for (std::size_t k = 0; k < distinct.size(); ++k) {
    list += fmt::format("{}{} on {}", k == 0 ? "" : "; ", describe_plan(distinct[k]),
                        rank_list(holders[k]));
  }
  return fmt::format(
      "native: the ranks' kernel plans differ ({}). Every rank must launch the same channels, "
      "warp mode and workspace geometry, or rows reach the wrong FIFOs with valid flags; the "
      "channel count and warp mode follow each GPU's occupancy, so mixed GPU models (or MIG / SM "
      "limits) differ: run every rank on the same GPU model",
      list);
}

bool collective_reset(bool needs_reset, const ResetSteps& steps) {
  if (!steps.vote(needs_reset)) return false;
  steps.drain();
  steps.barrier("native: workspace reset (every rank drained)");
  steps.zero();
  steps.barrier("native: workspace reset (every segment zeroed)");
  return true;
}

}  // namespace dcp::kernels
