#include "fabric/peer_path.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "core/error.hpp"
#include "fabric/nvml.hpp"

namespace dcp::fabric {

namespace {

/// Fields of the wire format are tab-separated, records newline-separated: neither may appear
/// inside a field.
std::string clean(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '\t', ' ');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = s.find(sep, pos);
    out.push_back(s.substr(pos, end == std::string_view::npos ? s.size() - pos : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return out;
}

template <typename T>
T number(std::string_view s, std::string_view what) {
  T v{};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    throw Error(fmt::format("{}: malformed number '{}' in the peer-path wire format", what, s));
  }
  return v;
}

}  // namespace

std::string_view to_string(PathKind k) {
  switch (k) {
    case PathKind::kSameGpu:
      return "same GPU";
    case PathKind::kNvlink:
      return "NVLink";
    case PathKind::kMnnvl:
      return "multi-node NVLink";
    case PathKind::kPcie:
      return "PCIe";
    case PathKind::kNetwork:
      return "network";
    case PathKind::kUnknown:
      break;
  }
  return "unknown";
}

bool ll128_validated(PathKind k) {
  return k == PathKind::kSameGpu || k == PathKind::kNvlink || k == PathKind::kMnnvl;
}

PeerPath classify_path(int rank, int peer, const PathEvidence& e) {
  PeerPath p;
  p.rank = rank;
  p.peer = peer;
  if (e.same_gpu) {
    p.kind = PathKind::kSameGpu;
    p.detail = "both ranks use one GPU";
  } else if (!e.same_host) {
    p.kind = e.same_fabric_clique ? PathKind::kMnnvl : PathKind::kNetwork;
    p.detail = e.fabric_detail;
  } else if (!e.nvml_ok) {
    p.kind = PathKind::kUnknown;
    p.detail = "NVML cannot tell: " + e.nvml_error;
  } else if (e.p2p_nvlink_status == 0) {
    p.kind = PathKind::kNvlink;
    p.detail = "NVML P2P NVLink status OK";
  } else if (e.direct_links > 0) {
    p.kind = PathKind::kNvlink;
    p.detail = fmt::format("{} active NVLink{} to the peer", e.direct_links,
                           e.direct_links == 1 ? "" : "s");
  } else if (e.self_switch_links > 0 && e.peer_switch_links > 0) {
    p.kind = PathKind::kNvlink;
    p.detail = fmt::format("through NVSwitch ({} and {} active switch links)", e.self_switch_links,
                           e.peer_switch_links);
  } else {
    p.kind = PathKind::kPcie;
    p.detail =
        e.p2p_nvlink_status >= 0
            ? fmt::format("no NVLink between them (NVML P2P NVLink status {})", e.p2p_nvlink_text)
            : std::string("no active NVLink between them");
  }
  return p;
}

PathEvidence probe_path_evidence(const Nvml& nvml, const GpuIdentity& self,
                                 const GpuIdentity& peer) {
  PathEvidence e;
  e.same_host = self.host == peer.host;
  e.same_gpu = e.same_host && !self.uuid.empty() && self.uuid == peer.uuid;
  if (e.same_gpu) return e;
  if (!e.same_host) {
    e.same_fabric_clique = self.fabric_registered && peer.fabric_registered &&
                           !self.cluster_uuid.empty() && self.cluster_uuid == peer.cluster_uuid &&
                           self.clique_id == peer.clique_id;
    const auto where = [](const GpuIdentity& g) {
      return g.fabric_registered
                 ? fmt::format("cluster {} clique {}",
                               g.cluster_uuid.empty() ? std::string("(none)") : g.cluster_uuid,
                               g.clique_id)
                 : std::string("not on an NVLink fabric");
    };
    e.fabric_detail = e.same_fabric_clique ? fmt::format("hosts {} and {} share NVLink fabric {}",
                                                         self.host, peer.host, where(self))
                                           : fmt::format("hosts {} ({}) and {} ({})", self.host,
                                                         where(self), peer.host, where(peer));
    return e;
  }
  if (!nvml.available()) {
    e.nvml_error = nvml.unavailable_reason();
    return e;
  }
  if (self.uuid.empty() || peer.uuid.empty()) {
    e.nvml_error = "a GPU UUID is unknown";
    return e;
  }
  const P2PNvlinkStatus s = nvml.p2p_nvlink(self.uuid, peer.uuid);
  if (s.queried) {
    e.p2p_nvlink_status = s.status;
    e.p2p_nvlink_text = s.text;
  }
  const NvlinkReport mine = nvml.nvlinks(self.uuid);
  const NvlinkReport theirs = nvml.nvlinks(peer.uuid);
  if (!s.queried && !mine.ok) {
    e.nvml_error = s.error.empty() ? mine.error : s.error;
    return e;
  }
  e.nvml_ok = true;
  for (const auto& l : mine.links) {
    if (!l.active) continue;
    if (!peer.bus_id.empty() && l.remote_bus_id == peer.bus_id) ++e.direct_links;
    if (l.remote == NvlinkRemote::kSwitch) ++e.self_switch_links;
  }
  for (const auto& l : theirs.links) {
    if (l.active && l.remote == NvlinkRemote::kSwitch) ++e.peer_switch_links;
  }
  return e;
}

const PeerPath& PeerPathTable::at(int rank, int peer) const {
  return entries.at(static_cast<std::size_t>(rank) * static_cast<std::size_t>(world) +
                    static_cast<std::size_t>(peer));
}

PeerPathTable assemble_table(int world, const std::vector<std::vector<PeerPath>>& rows) {
  PeerPathTable t;
  t.world = world;
  t.entries.resize(static_cast<std::size_t>(world) * static_cast<std::size_t>(world));
  for (int r = 0; r < world; ++r) {
    for (int p = 0; p < world; ++p) {
      PeerPath& e = t.entries[static_cast<std::size_t>(r) * static_cast<std::size_t>(world) +
                              static_cast<std::size_t>(p)];
      e.rank = r;
      e.peer = p;
      if (r == p) {
        e.kind = PathKind::kSameGpu;
        e.detail = "self";
      } else {
        e.kind = PathKind::kUnknown;
        e.detail = fmt::format("rank {} reported no path to rank {}", r, p);
      }
    }
  }
  for (const auto& row : rows) {
    for (const auto& e : row) {
      if (e.rank < 0 || e.rank >= world || e.peer < 0 || e.peer >= world || e.rank == e.peer) {
        continue;
      }
      t.entries[static_cast<std::size_t>(e.rank) * static_cast<std::size_t>(world) +
                static_cast<std::size_t>(e.peer)] = e;
    }
  }
  return t;
}

std::vector<PeerPath> classify_row(const Nvml& nvml, int rank,
                                   const std::vector<GpuIdentity>& ids) {
  std::vector<PeerPath> row;
  const GpuIdentity& self = ids.at(static_cast<std::size_t>(rank));
  for (int p = 0; p < static_cast<int>(ids.size()); ++p) {
    if (p == rank) continue;
    row.push_back(
        classify_path(rank, p, probe_path_evidence(nvml, self, ids[static_cast<std::size_t>(p)])));
  }
  return row;
}

std::string encode_row(const std::vector<PeerPath>& row) {
  std::string out;
  for (const auto& e : row) {
    out +=
        fmt::format("{}\t{}\t{}\t{}\n", e.rank, e.peer, static_cast<int>(e.kind), clean(e.detail));
  }
  return out;
}

std::vector<PeerPath> decode_row(std::string_view text, std::string_view what) {
  std::vector<PeerPath> out;
  for (std::string_view line : split(text, '\n')) {
    if (line.empty()) continue;
    const auto f = split(line, '\t');
    if (f.size() != 4) {
      throw Error(fmt::format("{}: malformed peer-path record '{}'", what, line));
    }
    PeerPath e;
    e.rank = number<int>(f[0], what);
    e.peer = number<int>(f[1], what);
    const int kind = number<int>(f[2], what);
    if (kind < static_cast<int>(PathKind::kSameGpu) ||
        kind > static_cast<int>(PathKind::kUnknown)) {
      throw Error(fmt::format("{}: unknown path kind {}", what, kind));
    }
    e.kind = static_cast<PathKind>(kind);
    e.detail = std::string(f[3]);
    out.push_back(std::move(e));
  }
  return out;
}

std::string encode_identity(const GpuIdentity& id) {
  return fmt::format("{}\t{}\t{}\t{}\t{}\t{}", clean(id.host), clean(id.uuid), clean(id.bus_id),
                     id.fabric_registered ? 1 : 0, clean(id.cluster_uuid), id.clique_id);
}

GpuIdentity decode_identity(std::string_view text, std::string_view what) {
  const auto f = split(text, '\t');
  if (f.size() != 6) throw Error(fmt::format("{}: malformed GPU identity '{}'", what, text));
  GpuIdentity id;
  id.host = std::string(f[0]);
  id.uuid = std::string(f[1]);
  id.bus_id = std::string(f[2]);
  id.fabric_registered = number<int>(f[3], what) != 0;
  id.cluster_uuid = std::string(f[4]);
  id.clique_id = number<std::uint32_t>(f[5], what);
  return id;
}

std::vector<PeerPath> unvalidated_paths(const PeerPathTable& table) {
  std::vector<PeerPath> out;
  for (const auto& e : table.entries) {
    if (e.rank != e.peer && !ll128_validated(e.kind)) out.push_back(e);
  }
  return out;
}

std::optional<std::string> ll128_path_problem(const PeerPathTable& table, bool allow_unvalidated) {
  if (allow_unvalidated) return std::nullopt;
  const auto bad = unvalidated_paths(table);
  if (bad.empty()) return std::nullopt;
  const PeerPath& e = bad.front();
  const std::string path = e.kind == PathKind::kUnknown ? std::string("a path NVML cannot classify")
                                                        : fmt::format("{}", to_string(e.kind));
  return fmt::format(
      "paths: ranks {} -> {} are joined by {} ({}), where the LL128 wire format is not validated "
      "(NVLink only); use --impl nccl-*, or --allow-unvalidated-path at your own risk ({} "
      "unvalidated pair{} in all)",
      e.rank, e.peer, path, e.detail, bad.size(), bad.size() == 1 ? "" : "s");
}

GpuIdentity make_identity(const Nvml& nvml, std::string host, std::string uuid,
                          std::string bus_id) {
  GpuIdentity id;
  id.host = std::move(host);
  id.uuid = std::move(uuid);
  id.bus_id = canonical_bus_id(bus_id);
  if (nvml.available() && !id.uuid.empty()) {
    const GpuFabricInfo f = nvml.fabric_info(id.uuid);
    if (f.queried && f.state == kFabricStateCompleted && f.status == kNvmlSuccess) {
      id.fabric_registered = true;
      id.cluster_uuid = f.cluster_uuid;
      id.clique_id = f.clique_id;
    }
  }
  return id;
}

}  // namespace dcp::fabric
