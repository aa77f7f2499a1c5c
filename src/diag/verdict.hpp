#pragma once
/// @file
/// The pure half of `dcpbench diag`: the check groups, the facts each rank measures, and the
/// rules that turn gathered facts into DiagCheck rows and verdicts. No CUDA, no MPI: the checks
/// (checks.cpp) measure facts on every rank and gather them; every rank then applies these rules
/// to the same gathered facts, so all ranks reach the same verdicts and exit code. Unit-tested
/// rule by rule (tests/unit/diag).
///
/// Facts travel between ranks as JSON text (encode/decode below).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diag_result.hpp"
#include "core/rank_info.hpp"

namespace dcp::diag {

// ---------------------------------------------------------------------------------------------
// Check groups (what `--checks` selects)

struct CheckGroupInfo {
  std::string_view name;
  std::string_view description;
};

/// Every group, in run order.
inline constexpr std::array kCheckGroups{
    CheckGroupInfo{"devices",
                   "per rank: host, GPU model and UUID, compute capability (>= 9.0), SMs; driver, "
                   "CUDA runtime and NCCL versions agree across ranks"},
    CheckGroupInfo{"mapping",
                   "local rank -> GPU: no two ranks on one GPU (UUIDs compared), "
                   "CUDA_VISIBLE_DEVICES reported"},
    CheckGroupInfo{"peer",
                   "cudaDeviceCanAccessPeer and P2P attributes (performance rank, native atomics, "
                   "access supported) for every same-host rank pair"},
    CheckGroupInfo{"nvlink", "NVLink links and their state through NVML (loaded at run time)"},
    CheckGroupInfo{"cumem", "cuMem capabilities: VMM, POSIX-fd and fabric handle attributes"},
    CheckGroupInfo{"ipc",
                   "the ipc workspace: cuMem POSIX-fd handles passed between ranks and mapped "
                   "into one unified VA range"},
    CheckGroupInfo{"fabric",
                   "fabric handles: device attribute, cuMemCreate + export, import + map of every "
                   "peer's handle (IMEX channel)"},
    CheckGroupInfo{"visibility",
                   "every rank reads every peer's signature through the mapping, and writes one "
                   "into every peer's segment"},
    CheckGroupInfo{"latency",
                   "one-way flag latency matrix: ping-pong of single-thread kernels through the "
                   "mapped workspace, %globaltimer, p50/p99"},
    CheckGroupInfo{"bandwidth",
                   "copy bandwidth matrix: copy engine into the peer's buffer, every ordered "
                   "pair"},
    CheckGroupInfo{"smoke",
                   "native exchange smoke test through the sweep runner (cp = ranks; one case, "
                   "eager, verified bit-exact)"},
};

/// "devices,mapping,...": the accepted names, for messages.
std::string accepted_check_groups();

/// Parses `--checks a,b` (comma-separated, spaces around names ignored) into group names in run
/// order, without duplicates. Throws ConfigError("checks: unknown check 'x'; accepted: ...") for
/// an unknown or empty name. An empty `csv` selects every group.
std::vector<std::string> parse_check_groups(std::string_view csv);

// ---------------------------------------------------------------------------------------------
// Thresholds (documented in docs/diag-schema.md)

/// The native exchange needs Hopper (sm_90) or newer.
inline constexpr int kMinCcMajor = 9;
inline constexpr int kMinCcMinor = 0;
/// Cross-GPU one-way latency p50 above this is a WARN (NVLink is ~0.7 us; PCIe or host memory
/// paths are several us).
inline constexpr double kLatencyWarnS = 3e-6;
/// Cross-GPU copy bandwidth below this is a WARN (NVLink 4 pairs reach ~400 GB/s; PCIe 5 x16
/// reaches ~50 GB/s).
inline constexpr double kBandwidthWarnBps = 100e9;

/// The reason every peer check gives on a single rank.
inline constexpr std::string_view kSingleRankReason =
    "single rank: no peers to test; run under mpirun -np N";

// ---------------------------------------------------------------------------------------------
// Facts measured on the ranks

/// What one rank runs on (gathered by every check group): the job's one rank description
/// (core/rank_info.hpp: rank, host, GPU, versions, nccl_version = the loaded library) and what
/// only diag checks.
struct RankFacts : RankInfo {
  int local_size = 1;
  int visible_devices = 0;                 ///< cudaGetDeviceCount in this process
  bool cvd_set = false;                    ///< CUDA_VISIBLE_DEVICES is set
  std::string cvd;                         ///< its value
  std::vector<std::string> visible_uuids;  ///< UUID of every device visible here, by ordinal
  std::string nccl_compiled;               ///< "2.28.9"
  std::string nccl_warning;                ///< non-empty when loaded and compiled NCCL differ

  friend bool operator==(const RankFacts&, const RankFacts&) = default;
};

/// P2P facts of the ordered pair from -> to, read in `from`'s process.
struct PeerFacts {
  int from = 0;
  int to = 0;
  bool peer_visible = false;  ///< `to`'s GPU is visible in `from`'s process
  int peer_device = -1;       ///< its ordinal there
  int can_access = 0;         ///< cudaDeviceCanAccessPeer
  int perf_rank = 0;          ///< cudaDevP2PAttrPerformanceRank (lower is better)
  int native_atomics = 0;     ///< cudaDevP2PAttrNativeAtomicSupported
  int access_supported = 0;   ///< cudaDevP2PAttrAccessSupported
  std::string error;          ///< a CUDA call failed

  friend bool operator==(const PeerFacts&, const PeerFacts&) = default;
};

/// NVLink state of one rank's GPU (NVML).
struct NvlinkFacts {
  bool nvml_available = false;
  std::string unavailable_reason;  ///< why NVML could not be used
  bool supported = false;          ///< the GPU reports NVLink state at all
  int links_checked = 0;
  int links_active = 0;
  std::vector<std::string> remote_bus_ids;  ///< distinct remote PCI bus ids of the active links
  std::string error;

  friend bool operator==(const NvlinkFacts&, const NvlinkFacts&) = default;
};

/// cuMem device attributes of one rank's GPU.
struct CumemFacts {
  bool vmm = false;
  bool posix_fd = false;
  bool fabric = false;
  std::string error;

  friend bool operator==(const CumemFacts&, const CumemFacts&) = default;
};

/// The ipc workspace as seen by one rank.
struct IpcFacts {
  bool attempted = false;
  bool ok = false;
  std::string describe;  ///< Workspace::describe() on success
  std::string error;     ///< the failure message

  friend bool operator==(const IpcFacts&, const IpcFacts&) = default;
};

/// Fabric handles on one rank: the attribute, then cuMemCreate + export of one granule.
struct FabricFacts {
  bool attribute = false;   ///< CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED
  bool attempted = false;   ///< cuMemCreate was tried
  bool create_ok = false;   ///< created and exported
  std::string failed_step;  ///< "cuMemCreate", "cuMemExportToShareableHandle", ...
  int cu_result = 0;        ///< CUresult of the failure, 0 when none
  std::string cu_name;      ///< "CUDA_ERROR_NOT_PERMITTED"
  std::string cu_text;      ///< "operation not permitted"
  std::string error;        ///< the failure message
  std::string imex;         ///< fabric::ImexStatus::summary() of this host
  std::string explanation;  ///< fabric::explain_fabric_failure() for a failure
  std::uint64_t bytes = 0;  ///< size tried

  friend bool operator==(const FabricFacts&, const FabricFacts&) = default;
};

/// Import + map of `exporter`'s fabric handle in `importer`'s process.
struct FabricImportFacts {
  int importer = 0;
  int exporter = 0;
  bool attempted = false;
  bool ok = false;
  int cu_result = 0;
  std::string cu_name;
  std::string cu_text;
  std::string error;

  friend bool operator==(const FabricImportFacts&, const FabricImportFacts&) = default;
};

/// Signature exchange between `writer` and `reader`, checked by the reader.
struct VisibilityFacts {
  int writer = 0;
  int reader = 0;
  bool ran = false;
  std::string skip_reason;
  std::uint64_t words = 0;  ///< 32-bit words per signature
  /// Reader read the writer's own segment through the mapping (remote read).
  std::uint64_t read_mismatches = 0;
  std::int64_t read_first_bad = -1;
  std::uint32_t read_expected = 0, read_actual = 0;
  /// Writer wrote into the reader's segment through the mapping (remote write), reader checked.
  std::uint64_t write_mismatches = 0;
  std::int64_t write_first_bad = -1;
  std::uint32_t write_expected = 0, write_actual = 0;
  std::string error;

  friend bool operator==(const VisibilityFacts&, const VisibilityFacts&) = default;
};

/// One-way flag latency between `from` (initiator) and `to`; from == to is the self measurement
/// (two streams on one GPU).
struct LatencyFacts {
  int from = 0;
  int to = 0;
  bool ran = false;
  std::string skip_reason;
  bool timed_out = false;
  int failed_round = -1;    ///< round that timed out
  std::string failed_side;  ///< "initiator" / "responder"
  int rounds = 0;           ///< measured rounds
  double p50_s = 0, p99_s = 0, mean_s = 0;
  std::string error;

  friend bool operator==(const LatencyFacts&, const LatencyFacts&) = default;
};

/// Copy bandwidth from `from`'s GPU into `to`'s buffer; from == to is the device-local copy.
struct BandwidthFacts {
  int from = 0;
  int to = 0;
  bool ran = false;
  std::string skip_reason;
  std::uint64_t bytes = 0;  ///< per copy
  int reps = 0;             ///< timed copies
  double seconds = 0;       ///< for all timed copies
  double Bps = 0;
  std::string error;

  friend bool operator==(const BandwidthFacts&, const BandwidthFacts&) = default;
};

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

// ---------------------------------------------------------------------------------------------
// Wire format (JSON text) for gathering facts across ranks

std::string encode(const RankFacts& f);
std::string encode(const std::vector<PeerFacts>& f);
std::string encode(const NvlinkFacts& f);
std::string encode(const CumemFacts& f);
std::string encode(const IpcFacts& f);
std::string encode(const FabricFacts& f);
std::string encode(const std::vector<FabricImportFacts>& f);
std::string encode(const std::vector<VisibilityFacts>& f);
std::string encode(const std::vector<LatencyFacts>& f);
std::string encode(const std::vector<BandwidthFacts>& f);
std::string encode(const SmokeFacts& f);
/// Inverses of encode(); throw dcp::Error on malformed text.
void decode(std::string_view text, RankFacts& out);
void decode(std::string_view text, std::vector<PeerFacts>& out);
void decode(std::string_view text, NvlinkFacts& out);
void decode(std::string_view text, CumemFacts& out);
void decode(std::string_view text, IpcFacts& out);
void decode(std::string_view text, FabricFacts& out);
void decode(std::string_view text, std::vector<FabricImportFacts>& out);
void decode(std::string_view text, std::vector<VisibilityFacts>& out);
void decode(std::string_view text, std::vector<LatencyFacts>& out);
void decode(std::string_view text, std::vector<BandwidthFacts>& out);
void decode(std::string_view text, SmokeFacts& out);

// ---------------------------------------------------------------------------------------------
// Helpers shared by the rules and the checks

/// "0" / "0, 2" / "0-3" style list: "0, 1, 2".
std::string format_ranks(const std::vector<int>& ranks);

/// Why a pair measurement between ranks a and b (a != b) cannot run, or nullopt:
/// different hosts when `needs_same_host`, or both ranks on one GPU (same UUID).
std::optional<std::string> pair_skip_reason(const RankFacts& a, const RankFacts& b,
                                            bool needs_same_host);

/// True when every rank runs on the same host.
bool single_host(const std::vector<RankFacts>& ranks);

/// A SKIP row for a group that needs peers, on a single rank.
DiagCheck single_rank_skip(std::string_view group, std::string_view name);

// ---------------------------------------------------------------------------------------------
// Rules: gathered facts -> rows

/// devices: one "gpu" row per rank (FAIL below compute capability 9.0), one job "versions" row
/// (WARN naming the ranks when GPU model, driver, runtime or NCCL differ, or when a rank's loaded
/// NCCL differs from the compiled one).
std::vector<DiagCheck> device_checks(const std::vector<RankFacts>& ranks);

/// mapping: one "gpu_mapping" row per rank (FAIL "two ranks on one GPU" naming the ranks, host
/// and UUID when another rank uses the same GPU).
std::vector<DiagCheck> mapping_checks(const std::vector<RankFacts>& ranks);

/// peer: one "peer_access" row per ordered pair (FAIL when cudaDeviceCanAccessPeer or the
/// access-supported attribute is 0; SKIP across hosts, on a shared GPU, or when the peer GPU is
/// not visible in-process); a single SKIP on one rank.
std::vector<DiagCheck> peer_checks(const std::vector<RankFacts>& ranks,
                                   const std::vector<PeerFacts>& pairs);

/// nvlink: one "nvlink" row per rank (SKIP without NVML or NVLink; WARN with no active link when
/// there are several ranks).
std::vector<DiagCheck> nvlink_checks(const std::vector<RankFacts>& ranks,
                                     const std::vector<NvlinkFacts>& facts);

/// cumem: one "cumem_caps" row per rank (FAIL without VMM, WARN without POSIX-fd handles).
std::vector<DiagCheck> cumem_checks(const std::vector<RankFacts>& ranks,
                                    const std::vector<CumemFacts>& facts);

/// ipc: one job "ipc_workspace" row (PASS when every rank mapped it; FAIL naming the failed
/// ranks; SKIP when the ranks span hosts).
DiagCheck ipc_check(const std::vector<RankFacts>& ranks, const std::vector<IpcFacts>& facts);

/// fabric: "fabric_attribute" and "fabric_create" per rank, "fabric_import" per ordered pair.
/// Failures are FAIL here; apply_fabric_fallback() then turns them into WARN where the job has
/// another path.
std::vector<DiagCheck> fabric_checks(const std::vector<RankFacts>& ranks,
                                     const std::vector<FabricFacts>& facts,
                                     const std::vector<FabricImportFacts>& imports);

/// Fabric failures are WARN, not FAIL, when the job does not need fabric handles: a single
/// rank, or all ranks on one host with a working ipc workspace (ipc_workspace PASS). With ipc
/// not checked on one host they are WARN too (the hint says to check ipc); across hosts, or when
/// ipc failed, no cross-GPU path works and they stay FAIL.
void apply_fabric_fallback(std::vector<DiagCheck>& checks, const std::vector<RankFacts>& ranks);

/// visibility: one "visibility" row per ordered (writer, reader) pair, FAIL naming the pair,
/// direction, count and first bad word.
std::vector<DiagCheck> visibility_checks(const std::vector<RankFacts>& ranks,
                                         const std::vector<VisibilityFacts>& facts);

/// latency: one "latency" row per measured pair (from < to) and the self rows on a single rank;
/// FAIL on a timeout, WARN above kLatencyWarnS across GPUs.
std::vector<DiagCheck> latency_checks(const std::vector<RankFacts>& ranks,
                                      const std::vector<LatencyFacts>& facts);
/// The p50 and p99 matrices (seconds; symmetric; the diagonal holds the self measurements).
std::vector<DiagMatrix> latency_matrices(int world_size, const std::vector<LatencyFacts>& facts,
                                         std::string_view method);

/// bandwidth: one "copy_bandwidth" row per ordered pair, the self rows on a single rank; FAIL
/// on an error, WARN below kBandwidthWarnBps across GPUs.
std::vector<DiagCheck> bandwidth_checks(const std::vector<RankFacts>& ranks,
                                        const std::vector<BandwidthFacts>& facts);
/// The copy-bandwidth matrix (bytes/s; the diagonal holds the device-local copies).
DiagMatrix bandwidth_matrix(int world_size, const std::vector<BandwidthFacts>& facts,
                            std::string_view method);

/// smoke: one job "native_smoke" row: PASS when bit-exact, FAIL otherwise, SKIP with the reason.
DiagCheck smoke_check(const SmokeFacts& facts);

// ---------------------------------------------------------------------------------------------
// Aggregation

/// Verdict counts; exit_code = 1 when any check FAILs, else 0.
DiagSummary summarize(const std::vector<DiagCheck>& checks);

}  // namespace dcp::diag
