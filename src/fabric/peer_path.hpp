#pragma once
/// @file
/// What carries the traffic between two ranks' GPUs, and whether LL128 may use it.
///
/// LL128 rests on a property of the path, not of the kernel: a 128-byte store may be split on
/// its way but its pieces arrive in ascending address order (shared/docs/dcp-a2a-spec.md §3.8).
/// NCCL enables LL128 by default only where that was verified (NVLink); elsewhere it warns of
/// silent corruption. So the native exchange runs only over validated paths: the same GPU (sim,
/// one L2), NVLink (direct or through NVSwitch) and a multi-node NVLink fabric whose GPUs share
/// a cluster and clique; PCIe, a network, or a path NVML cannot tell are refused unless the
/// user overrides (`--allow-unvalidated-path`, recorded in the report). The `ll128_order` diag
/// check measures the property on a real pair.
///
/// Three layers, so the rules are testable without a GPU or MPI:
///  - pure: PathEvidence -> PeerPath (classify_path), the table and its wire format,
///    ll128_path_problem (library dcp_nvml, host-only builds too);
///  - NVML: probe_path_evidence asks NVML about one pair (CUDA-free, dcp_nvml);
///  - MPI: gather_peer_paths (peer_path_gather.cpp, dcp_fabric) gives every rank the same table.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dcp {
class World;
}

namespace dcp::fabric {

class Nvml;

/// The kinds of path between two ranks' GPUs.
enum class PathKind {
  kSameGpu,  ///< one GPU (sim mode, or two ranks sharing a GPU): one L2, no link
  kNvlink,   ///< same host, NVLink: direct links, or both GPUs on an NVSwitch
  kMnnvl,    ///< different hosts on one multi-node NVLink fabric (same cluster and clique)
  kPcie,     ///< same host, no NVLink between them: PCIe (or through the CPU)
  kNetwork,  ///< different hosts without a shared NVLink fabric
  kUnknown,  ///< NVML unavailable or failed: cannot tell
};

/// "same GPU", "NVLink", "multi-node NVLink", "PCIe", "network", "unknown".
std::string_view to_string(PathKind k);

/// True for the kinds LL128 is validated on: kSameGpu, kNvlink, kMnnvl.
bool ll128_validated(PathKind k);

/// A rank's GPU as the path probe needs it (gathered from every rank).
struct GpuIdentity {
  std::string host;
  std::string uuid;    ///< "GPU-..."; empty when unknown
  std::string bus_id;  ///< canonical_bus_id
  /// From NVML's fabric info: state COMPLETED with a success status.
  bool fabric_registered = false;
  std::string cluster_uuid;  ///< empty when none
  std::uint32_t clique_id = 0;

  friend bool operator==(const GpuIdentity&, const GpuIdentity&) = default;
};

/// What NVML said about one ordered pair (self = the probing rank's GPU).
struct PathEvidence {
  bool same_host = false;
  bool same_gpu = false;
  bool nvml_ok = false;        ///< NVML answered for this pair
  std::string nvml_error;      ///< why not
  int p2p_nvlink_status = -1;  ///< nvmlDeviceGetP2PStatus(NVLINK): 0 = OK, -1 = not asked
  std::string p2p_nvlink_text;
  int direct_links = 0;       ///< self's active links whose far end is the peer's bus id
  int self_switch_links = 0;  ///< self's active links to an NVSwitch
  int peer_switch_links = 0;  ///< the peer's active links to an NVSwitch
  /// Cross-host: both GPUs registered with the fabric, same cluster UUID and clique id.
  bool same_fabric_clique = false;
  std::string fabric_detail;  ///< the clusters/cliques, for the message
};

/// One ordered pair's verdict.
struct PeerPath {
  int rank = 0;
  int peer = 0;
  PathKind kind = PathKind::kUnknown;
  std::string detail;  ///< the evidence in a few words ("NVML P2P NVLink status OK")

  friend bool operator==(const PeerPath&, const PeerPath&) = default;
};

/// Classifies one pair (pure). Order: same GPU; cross-host (fabric clique, else network); no
/// NVML -> unknown; NVML P2P NVLink status OK, or direct active links, or both GPUs with active
/// NVSwitch links -> NVLink; otherwise PCIe.
PeerPath classify_path(int rank, int peer, const PathEvidence& e);

/// Evidence for the pair (self, peer) from NVML and the identities (CUDA-free, no MPI).
PathEvidence probe_path_evidence(const Nvml& nvml, const GpuIdentity& self,
                                 const GpuIdentity& peer);

/// Every ordered pair of a job: entries(r, p) for r != p, row-major. Every rank holds the same
/// table after gather_peer_paths.
struct PeerPathTable {
  int world = 0;
  std::vector<PeerPath> entries;  ///< world * world, diagonal entries are kSameGpu

  [[nodiscard]] const PeerPath& at(int rank, int peer) const;
  friend bool operator==(const PeerPathTable&, const PeerPathTable&) = default;
};

/// Builds the table from every rank's row (row r = the pairs (r, p), p = 0..world-1).
PeerPathTable assemble_table(int world, const std::vector<std::vector<PeerPath>>& rows);

/// The one-rank table: classifies (rank, p) for every p with NVML (local, no MPI). `ids` holds
/// every rank's identity.
std::vector<PeerPath> classify_row(const Nvml& nvml, int rank, const std::vector<GpuIdentity>& ids);

/// Wire format of a row and of an identity (text, one record per line; pure).
std::string encode_row(const std::vector<PeerPath>& row);
/// Throws dcp::Error naming `what` on malformed text.
std::vector<PeerPath> decode_row(std::string_view text, std::string_view what);
std::string encode_identity(const GpuIdentity& id);
GpuIdentity decode_identity(std::string_view text, std::string_view what);

/// The pairs whose path LL128 is not validated on, in (rank, peer) order.
std::vector<PeerPath> unvalidated_paths(const PeerPathTable& table);

/// nullopt when every pair's path is validated, or when `allow_unvalidated` is set; otherwise
/// ONE line naming the first unvalidated pair, its path and what to do, e.g. "paths: ranks 0 ->
/// 1 are joined by PCIe (NVML P2P NVLink status NOT_SUPPORTED), where the LL128 wire format is
/// not validated (NVLink only); use --impl nccl-*, or --allow-unvalidated-path at your own risk
/// (2 unvalidated pairs in all)". Pure.
std::optional<std::string> ll128_path_problem(const PeerPathTable& table, bool allow_unvalidated);

/// Collective (full builds only, peer_path_gather.cpp): gathers every rank's identity, each
/// rank classifies its row with NVML, and the rows are gathered, so every rank returns the same
/// table. `mine` comes from the rank's CUDA device (UUID, PCI bus id) and NVML's fabric info.
PeerPathTable gather_peer_paths(const World& world, const GpuIdentity& mine);

/// This GPU's identity for gather_peer_paths: host, UUID and bus id as given, the fabric
/// registration from NVML (left false when NVML cannot tell).
GpuIdentity make_identity(const Nvml& nvml, std::string host, std::string uuid, std::string bus_id);

}  // namespace dcp::fabric
