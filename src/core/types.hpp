#pragma once
/// @file
/// The small enumerations every layer shares, with their one spelling each.
///
/// `to_string` gives the canonical name used on the command line, in configs and in reports;
/// `parse_*` accepts exactly those names and returns std::nullopt otherwise (the caller turns that
/// into a ConfigError naming the field).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dcp {

/// What a case computes (the `op` axis).
enum class Op {
  kExchange,  ///< the all-to-all alone: every rank receives its peers' rows bit-exact
  kReduce,    ///< the exchange, then the merge of the partial outputs with their LSEs
              ///< (dcp-reduce-spec.md §2) into out[E, D] and lse_out[E] on every rank
};

/// Base of the log-sum-exp values of `--op reduce` (FlashInfer's MLA kernels return base 2,
/// FlashAttention-style kernels base e; mixing them is a silent bug engines have hit).
enum class LseBase : std::uint8_t { kE = 0, kTwo = 1 };

/// Element type of partial_o. softmax_stats is always fp32.
enum class DType { kBf16, kFp16 };

/// Where the native exchange's workspace lives.
enum class WorkspaceKind {
  kAuto,    ///< fabric where it works on every rank, else ipc where all ranks share a host
  kIpc,     ///< cuMem POSIX-fd handles passed between processes of one host
  kFabric,  ///< cuMem FABRIC handles (MNNVL, IMEX channel required)
  kSim,     ///< all cp ranks simulated on one GPU, sharing one allocation
};

/// How exchanges are issued and timed.
enum class LaunchMode {
  kEager,      ///< sync, barrier, events around one call
  kPipelined,  ///< K back-to-back calls between two events, time / K
  kGraph,      ///< K calls captured in a CUDA graph; one sample = one replay, reported per call
};

inline constexpr std::array kAllOps{Op::kExchange, Op::kReduce};
inline constexpr std::array kAllLseBases{LseBase::kE, LseBase::kTwo};
inline constexpr std::array kAllDTypes{DType::kBf16, DType::kFp16};
inline constexpr std::array kAllWorkspaceKinds{WorkspaceKind::kAuto, WorkspaceKind::kIpc,
                                               WorkspaceKind::kFabric, WorkspaceKind::kSim};
inline constexpr std::array kAllLaunchModes{LaunchMode::kEager, LaunchMode::kPipelined,
                                            LaunchMode::kGraph};

std::string_view to_string(Op v);
std::string_view to_string(LseBase v);
std::string_view to_string(DType v);
std::string_view to_string(WorkspaceKind v);
std::string_view to_string(LaunchMode v);

std::optional<Op> parse_op(std::string_view s);
std::optional<LseBase> parse_lse_base(std::string_view s);
std::optional<DType> parse_dtype(std::string_view s);
std::optional<WorkspaceKind> parse_workspace(std::string_view s);
std::optional<LaunchMode> parse_launch(std::string_view s);

/// Bytes per element of partial_o.
constexpr std::size_t element_bytes(DType) {
  return 2;
}
/// Bytes per element of softmax_stats (fp32).
inline constexpr std::size_t kStatsElementBytes = 4;

/// "a|b|c": the accepted names, for error messages and --help.
std::string accepted_ops();
std::string accepted_lse_bases();
std::string accepted_dtypes();
std::string accepted_workspaces();
std::string accepted_launches();

/// The entries of a comma-separated list as typed (a flag's value). Malformed lists are refused
/// with a ConfigError naming `field`: an empty text, an empty entry (a stray comma: "1,,2", ",1",
/// "1,") or a blank one (" "); `accepted` ends the message ("accepted: <accepted>").
std::vector<std::string> split_list(std::string_view text, std::string_view field,
                                    std::string_view accepted);

}  // namespace dcp
