#pragma once
/// @file
/// Fault injection (`--inject KIND[:rank]`): a testing aid that makes one rank misbehave on
/// purpose, to prove that timeouts fire and that verification is not vacuous.

#include <optional>
#include <string>
#include <string_view>

namespace dcp {

enum class FaultKind {
  kSkipLaunch,     ///< the rank never launches the exchange; its peers must time out
  kCorruptLine,    ///< the rank flips one payload byte of one line after setting its flag;
                   ///< verification on the receiving peer must report it
  kShapeMismatch,  ///< the rank sweeps batch + 1 everywhere, so its cases differ from its
                   ///< peers'; the plan agreement check must name it before any exchange
  kKill,           ///< the rank kills itself (SIGKILL) when its second planned run starts: the
                   ///< launcher must end the job, nobody may hang
  kSkipInit,       ///< the rank's native workspace segment looks never initialised (garbage
                   ///< counters): the init check must name the rank before any exchange
  kRowOrder,       ///< the rank's native peer table has its own row and the next swapped: the
                   ///< row-order check must catch it before any exchange
};

struct FaultInjection {
  FaultKind kind = FaultKind::kSkipLaunch;
  std::optional<int> rank;  ///< the misbehaving rank; nullopt = every rank

  /// Whether rank `r` is the one that misbehaves.
  [[nodiscard]] bool applies_to(int r) const { return !rank || *rank == r; }

  friend bool operator==(const FaultInjection&, const FaultInjection&) = default;
};

std::string_view to_string(FaultKind k);
/// "KIND[:rank]" in the --inject syntax.
std::string to_string(const FaultInjection& f);
/// Parses "KIND[:rank]"; throws ConfigError naming `inject` on bad input.
FaultInjection parse_fault(std::string_view text);
/// "skip-launch|corrupt-line".
std::string accepted_faults();

}  // namespace dcp
