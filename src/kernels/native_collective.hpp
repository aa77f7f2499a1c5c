#pragma once
/// @file
/// The native exchange's rules between ranks at setup, as pure functions the CPU tests exercise
/// (native_alltoall.cpp supplies the collectives and the device work):
///  - plan agreement (issue 13.6): the channel count and warp mode come from each GPU's
///    occupancy, so ranks on different GPU models could pick different ones, and then rows
///    would be routed to the wrong FIFOs with valid flags. Every rank gathers every rank's plan
///    and refuses, naming the ranks and the values, when they differ;
///  - the collective workspace reset (issue 13.7): after an aborted call, kernels of any rank may
///    still run and write into any segment (peers write FIFO lines and credits remotely), so the
///    order is: vote, drain this process's exchange work, barrier, zero own segments, barrier.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace dcp::kernels {

/// The plan fields every rank must agree on, in the fixed-size form an allgather moves.
struct PlanWire {
  std::int32_t ok = 0;  ///< 1: this rank can run the case (its plan names no problem)
  std::int32_t channels = 0;
  std::int32_t single_warp = 0;
  std::int32_t cp_size = 0;       ///< workspace geometry: cp
  std::int32_t max_channels = 0;  ///< C_max
  std::int32_t depth = 0;
  std::int32_t slot_lines = 0;

  friend bool operator==(const PlanWire&, const PlanWire&) = default;
};
static_assert(std::is_trivially_copyable_v<PlanWire>);

/// One line for one plan, e.g. "channels=128 warps=single geometry=4x128x4x32".
std::string describe_plan(const PlanWire& p);

/// Given every rank's plan (index = rank): nullopt when all agree and all can run, else the
/// message: a rank that cannot run the case is named (its own message says why), and otherwise
/// the distinct plans with the ranks holding each, e.g. "native: the ranks' kernel plans differ
/// (channels=128 warps=single on ranks 0, 2; channels=96 warps=split on rank 1) ...".
std::optional<std::string> plan_disagreement(std::span<const PlanWire> plans);

/// The steps of a collective workspace reset, supplied by the caller.
struct ResetSteps {
  /// Collective OR of the ranks' "needs reset" (a rank that saw no error must reset too).
  std::function<bool(bool)> vote;
  /// Returns once no exchange kernel this process launched can still run or write (e.g. a device
  /// synchronisation of every local rank's work; bounded because every device wait is).
  std::function<void()> drain;
  /// All ranks (a no-op when every rank is in this process).
  std::function<void(std::string_view)> barrier;
  /// Zero-fills the segments this process owns and waits until that is done.
  std::function<void()> zero;
};

/// Runs the reset sequence: vote; if any rank needs it: drain, barrier (nobody zeroes while a
/// peer's kernel may still write into its segment), zero, barrier (nobody launches an exchange
/// into a segment that is not zeroed yet). Returns whether it reset.
bool collective_reset(bool needs_reset, const ResetSteps& steps);

}  // namespace dcp::kernels
