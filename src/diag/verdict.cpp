#include "diag/verdict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/error.hpp"

namespace dcp::diag {

// ---- wire format --------------------------------------------------------------------------------

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RankFacts, rank, local_rank, local_size, host, device,
                                   visible_devices, cvd_set, cvd, visible_uuids, gpu_name, gpu_uuid,
                                   pci_bus_id, sm_count, cc_major, cc_minor, driver_version,
                                   runtime_version, nccl_version, nccl_compiled, nccl_warning)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PeerFacts, from, to, peer_visible, peer_device, can_access,
                                   perf_rank, native_atomics, access_supported, error)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NvlinkFacts, nvml_available, unavailable_reason, supported,
                                   links_checked, links_active, remote_bus_ids, error)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CumemFacts, vmm, posix_fd, fabric, error)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(IpcFacts, attempted, ok, describe, error)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FabricFacts, attribute, attempted, create_ok, failed_step,
                                   cu_result, cu_name, cu_text, error, imex, explanation, bytes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FabricImportFacts, importer, exporter, attempted, ok, cu_result,
                                   cu_name, cu_text, error)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(VisibilityFacts, writer, reader, ran, skip_reason, words,
                                   read_mismatches, read_first_bad, read_expected, read_actual,
                                   write_mismatches, write_first_bad, write_expected, write_actual,
                                   error)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LatencyFacts, from, to, ran, skip_reason, timed_out,
                                   failed_round, failed_side, rounds, p50_s, p99_s, mean_s, error)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BandwidthFacts, from, to, ran, skip_reason, bytes, reps, seconds,
                                   Bps, error)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SmokeFacts, ran, skip_reason, case_key, status, exact, verify,
                                   p50_s, error, note)

namespace {

template <typename T>
std::string encode_any(const T& v) {
  return nlohmann::json(v).dump();
}

template <typename T>
void decode_any(std::string_view text, T& out, std::string_view what) {
  try {
    nlohmann::json::parse(text).get_to(out);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("diag: malformed {} from a peer rank: {}", what, e.what()));
  }
}

}  // namespace

std::string encode(const RankFacts& f) {
  return encode_any(f);
}
std::string encode(const std::vector<PeerFacts>& f) {
  return encode_any(f);
}
std::string encode(const NvlinkFacts& f) {
  return encode_any(f);
}
std::string encode(const CumemFacts& f) {
  return encode_any(f);
}
std::string encode(const IpcFacts& f) {
  return encode_any(f);
}
std::string encode(const FabricFacts& f) {
  return encode_any(f);
}
std::string encode(const std::vector<FabricImportFacts>& f) {
  return encode_any(f);
}
std::string encode(const std::vector<VisibilityFacts>& f) {
  return encode_any(f);
}
std::string encode(const std::vector<LatencyFacts>& f) {
  return encode_any(f);
}
std::string encode(const std::vector<BandwidthFacts>& f) {
  return encode_any(f);
}
std::string encode(const SmokeFacts& f) {
  return encode_any(f);
}
void decode(std::string_view text, RankFacts& out) {
  decode_any(text, out, "rank facts");
}
void decode(std::string_view text, std::vector<PeerFacts>& out) {
  decode_any(text, out, "peer facts");
}
void decode(std::string_view text, NvlinkFacts& out) {
  decode_any(text, out, "NVLink facts");
}
void decode(std::string_view text, CumemFacts& out) {
  decode_any(text, out, "cuMem facts");
}
void decode(std::string_view text, IpcFacts& out) {
  decode_any(text, out, "ipc facts");
}
void decode(std::string_view text, FabricFacts& out) {
  decode_any(text, out, "fabric facts");
}
void decode(std::string_view text, std::vector<FabricImportFacts>& out) {
  decode_any(text, out, "fabric import facts");
}
void decode(std::string_view text, std::vector<VisibilityFacts>& out) {
  decode_any(text, out, "visibility facts");
}
void decode(std::string_view text, std::vector<LatencyFacts>& out) {
  decode_any(text, out, "latency facts");
}
void decode(std::string_view text, std::vector<BandwidthFacts>& out) {
  decode_any(text, out, "bandwidth facts");
}
void decode(std::string_view text, SmokeFacts& out) {
  decode_any(text, out, "smoke-test facts");
}

// ---- groups -------------------------------------------------------------------------------------

std::string accepted_check_groups() {
  std::string out;
  for (const auto& g : kCheckGroups) {
    if (!out.empty()) out += ',';
    out += g.name;
  }
  return out;
}

std::vector<std::string> parse_check_groups(std::string_view csv) {
  std::vector<bool> chosen(kCheckGroups.size(), csv.empty());
  std::size_t pos = 0;
  while (!csv.empty() && pos <= csv.size()) {
    std::size_t end = csv.find(',', pos);
    if (end == std::string_view::npos) end = csv.size();
    std::string_view name = csv.substr(pos, end - pos);
    while (!name.empty() && name.front() == ' ')
      name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ')
      name.remove_suffix(1);
    if (name.empty()) {
      throw ConfigError(
          fmt::format("checks: empty name in '{}'; accepted: {}", csv, accepted_check_groups()));
    }
    const auto it = std::find_if(kCheckGroups.begin(), kCheckGroups.end(),
                                 [&](const CheckGroupInfo& g) { return g.name == name; });
    if (it == kCheckGroups.end()) {
      throw ConfigError(
          fmt::format("checks: unknown check '{}'; accepted: {}", name, accepted_check_groups()));
    }
    chosen[static_cast<std::size_t>(it - kCheckGroups.begin())] = true;
    pos = end + 1;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kCheckGroups.size(); ++i) {
    if (chosen[i]) out.emplace_back(kCheckGroups[i].name);
  }
  return out;
}

// ---- helpers ------------------------------------------------------------------------------------

std::string format_ranks(const std::vector<int>& ranks) {
  return fmt::format("{}", fmt::join(ranks, ", "));
}

bool single_host(const std::vector<RankFacts>& ranks) {
  return std::all_of(ranks.begin(), ranks.end(),
                     [&](const RankFacts& r) { return r.host == ranks.front().host; });
}

std::optional<std::string> pair_skip_reason(const RankFacts& a, const RankFacts& b,
                                            bool needs_same_host) {
  if (a.host != b.host) {
    if (needs_same_host) {
      return fmt::format("ranks {} and {} run on different hosts ({}, {}): not tested across hosts",
                         a.rank, b.rank, a.host, b.host);
    }
    return std::nullopt;
  }
  if (!a.gpu_uuid.empty() && a.gpu_uuid == b.gpu_uuid) {
    return fmt::format("ranks {} and {} share one GPU ({}, see gpu_mapping)", a.rank, b.rank,
                       a.gpu_uuid);
  }
  return std::nullopt;
}

DiagCheck single_rank_skip(std::string_view group, std::string_view name) {
  DiagCheck c;
  c.group = std::string(group);
  c.name = std::string(name);
  c.scope = DiagScope::kJob;
  c.verdict = Verdict::kSkip;
  c.hint = std::string(kSingleRankReason);
  return c;
}

namespace {

DiagCheck rank_row(std::string_view group, std::string_view name, int rank) {
  DiagCheck c;
  c.group = std::string(group);
  c.name = std::string(name);
  c.scope = DiagScope::kRank;
  c.ranks = {rank};
  return c;
}

DiagCheck pair_row(std::string_view group, std::string_view name, int from, int to) {
  DiagCheck c;
  c.group = std::string(group);
  c.name = std::string(name);
  c.scope = DiagScope::kPair;
  c.ranks = {from, to};
  return c;
}

std::string yes_no(bool b) {
  return b ? "yes" : "no";
}

/// Distinct values of `get` over the ranks, each with the ranks that have it, in order of first
/// appearance.
template <typename Get>
std::vector<std::pair<std::string, std::vector<int>>> distinct(const std::vector<RankFacts>& ranks,
                                                               Get get) {
  std::vector<std::pair<std::string, std::vector<int>>> out;
  for (const auto& r : ranks) {
    const std::string v = get(r);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == v; });
    if (it == out.end()) {
      out.push_back({v, {r.rank}});
    } else {
      it->second.push_back(r.rank);
    }
  }
  return out;
}

/// "13.0 on ranks 0, 1; 12.8 on rank 2".
std::string describe_groups(const std::vector<std::pair<std::string, std::vector<int>>>& groups) {
  std::string out;
  for (const auto& [value, ranks] : groups) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{} on rank{} {}", value.empty() ? "(unknown)" : value,
                       ranks.size() > 1 ? "s" : "", format_ranks(ranks));
  }
  return out;
}

const RankFacts* find_rank(const std::vector<RankFacts>& ranks, int r) {
  for (const auto& f : ranks) {
    if (f.rank == r) return &f;
  }
  return nullptr;
}

std::string fmt_us(double s) {
  return fmt::format("{:.2f}", s * 1e6);
}

std::string fmt_gbps(double bps) {
  return fmt::format("{:.1f}", bps / 1e9);
}

std::string fmt_bytes(std::uint64_t b) {
  if (b >= (1ULL << 20) && b % (1ULL << 20) == 0) return fmt::format("{} MiB", b >> 20);
  if (b >= (1ULL << 10) && b % (1ULL << 10) == 0) return fmt::format("{} KiB", b >> 10);
  return fmt::format("{} B", b);
}

constexpr int kCuErrorNotPermitted = 800;  // CUDA_ERROR_NOT_PERMITTED

}  // namespace

// ---- devices ------------------------------------------------------------------------------------

std::vector<DiagCheck> device_checks(const std::vector<RankFacts>& ranks) {
  std::vector<DiagCheck> out;
  for (const auto& r : ranks) {
    DiagCheck c = rank_row("devices", "gpu", r.rank);
    c.value = fmt::format("{} ({}), cc {}.{}, {} SMs, host {}", r.gpu_name, r.gpu_uuid, r.cc_major,
                          r.cc_minor, r.sm_count, r.host);
    const bool cc_ok =
        r.cc_major > kMinCcMajor || (r.cc_major == kMinCcMajor && r.cc_minor >= kMinCcMinor);
    if (cc_ok) {
      c.verdict = Verdict::kPass;
    } else {
      c.verdict = Verdict::kFail;
      c.hint = fmt::format(
          "compute capability {}.{} is below {}.{}: the native exchange needs Hopper (sm_90) or "
          "newer; run on H100/H200/B200-class GPUs (the NCCL baselines still run here)",
          r.cc_major, r.cc_minor, kMinCcMajor, kMinCcMinor);
    }
    out.push_back(std::move(c));
  }

  DiagCheck v;
  v.group = "devices";
  v.name = "versions";
  v.scope = DiagScope::kJob;
  const auto models = distinct(ranks, [](const RankFacts& r) { return r.gpu_name; });
  const auto drivers = distinct(ranks, [](const RankFacts& r) { return r.driver_version; });
  const auto runtimes = distinct(ranks, [](const RankFacts& r) { return r.runtime_version; });
  const auto nccls = distinct(ranks, [](const RankFacts& r) { return r.nccl_version; });
  const RankFacts& r0 = ranks.front();
  v.value = fmt::format("driver {}, runtime {}, NCCL {} (compiled {})", r0.driver_version,
                        r0.runtime_version, r0.nccl_version.empty() ? "?" : r0.nccl_version,
                        r0.nccl_compiled);
  std::vector<std::string> problems;
  if (models.size() > 1) problems.push_back("GPU models differ: " + describe_groups(models));
  if (drivers.size() > 1) problems.push_back("driver versions differ: " + describe_groups(drivers));
  if (runtimes.size() > 1) {
    problems.push_back("CUDA runtime versions differ: " + describe_groups(runtimes));
  }
  if (nccls.size() > 1) problems.push_back("NCCL versions differ: " + describe_groups(nccls));
  std::vector<int> nccl_mismatch;
  for (const auto& r : ranks) {
    if (!r.nccl_warning.empty()) nccl_mismatch.push_back(r.rank);
  }
  if (!nccl_mismatch.empty()) {
    const RankFacts* first = find_rank(ranks, nccl_mismatch.front());
    problems.push_back(fmt::format("rank{} {}: {}", nccl_mismatch.size() > 1 ? "s" : "",
                                   format_ranks(nccl_mismatch), first->nccl_warning));
  }
  if (problems.empty()) {
    v.verdict = Verdict::kPass;
  } else {
    v.verdict = Verdict::kWarn;
    if (models.size() > 1 || drivers.size() > 1 || runtimes.size() > 1 || nccls.size() > 1) {
      v.value = "versions differ across ranks";
    }
    v.hint = fmt::format("{}; install the same driver, CUDA and NCCL on every node",
                         fmt::join(problems, "; "));
  }
  out.push_back(std::move(v));
  return out;
}

// ---- mapping ------------------------------------------------------------------------------------

std::vector<DiagCheck> mapping_checks(const std::vector<RankFacts>& ranks) {
  std::vector<DiagCheck> out;
  for (const auto& r : ranks) {
    DiagCheck c = rank_row("mapping", "gpu_mapping", r.rank);
    c.value = fmt::format(
        "host {}, local rank {} -> device {} of {} visible, {}, "
        "CUDA_VISIBLE_DEVICES={}",
        r.host, r.local_rank, r.device, r.visible_devices, r.gpu_uuid,
        r.cvd_set ? (r.cvd.empty() ? "\"\"" : r.cvd) : "(unset)");
    std::vector<int> sharing;
    for (const auto& o : ranks) {
      if (o.host == r.host && !r.gpu_uuid.empty() && o.gpu_uuid == r.gpu_uuid) {
        sharing.push_back(o.rank);
      }
    }
    if (sharing.size() > 1) {
      c.verdict = Verdict::kFail;
      c.hint = fmt::format(
          "two ranks on one GPU: ranks {} on host {} all use {} (device {}); run one rank per "
          "GPU: -np at most the GPUs of the host, or a distinct CUDA_VISIBLE_DEVICES per rank",
          format_ranks(sharing), r.host, r.gpu_uuid, r.device);
    } else {
      c.verdict = Verdict::kPass;
    }
    out.push_back(std::move(c));
  }
  return out;
}

// ---- peer ---------------------------------------------------------------------------------------

std::vector<DiagCheck> peer_checks(const std::vector<RankFacts>& ranks,
                                   const std::vector<PeerFacts>& pairs) {
  if (ranks.size() < 2) return {single_rank_skip("peer", "peer_access")};
  std::vector<DiagCheck> out;
  for (const auto& p : pairs) {
    DiagCheck c = pair_row("peer", "peer_access", p.from, p.to);
    const RankFacts* a = find_rank(ranks, p.from);
    const RankFacts* b = find_rank(ranks, p.to);
    if (a == nullptr || b == nullptr) continue;
    if (auto why = pair_skip_reason(*a, *b, true)) {
      c.verdict = Verdict::kSkip;
      c.hint = a->host == b->host ? *why + ": there is no link between them" : *why;
    } else if (!p.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "reading the P2P attributes failed: " + p.error;
    } else if (!p.peer_visible) {
      c.verdict = Verdict::kSkip;
      c.hint = fmt::format(
          "rank {}'s GPU {} is not visible in rank {}'s process (CUDA_VISIBLE_DEVICES={}): P2P "
          "attributes are read in-process; the ipc, visibility and latency checks test the path",
          b->rank, b->gpu_uuid, a->rank, a->cvd_set ? a->cvd : "(unset)");
    } else {
      c.value = fmt::format(
          "device {} -> {}: can access {}, performance rank {}, native atomics {}, access "
          "supported {}",
          a->device, p.peer_device, yes_no(p.can_access != 0), p.perf_rank,
          yes_no(p.native_atomics != 0), yes_no(p.access_supported != 0));
      if (p.can_access == 0 || p.access_supported == 0) {
        c.verdict = Verdict::kFail;
        c.hint = fmt::format(
            "no peer access from {} to {} (cudaDeviceCanAccessPeer = {}, access supported = {}): "
            "the native exchange writes into the peer's memory directly; check `nvidia-smi topo "
            "-m` (NVLink or a P2P-capable PCIe switch), and that no VM/IOMMU setting blocks P2P",
            a->gpu_uuid, b->gpu_uuid, p.can_access, p.access_supported);
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

// ---- nvlink -------------------------------------------------------------------------------------

std::vector<DiagCheck> nvlink_checks(const std::vector<RankFacts>& ranks,
                                     const std::vector<NvlinkFacts>& facts) {
  std::vector<DiagCheck> out;
  for (std::size_t i = 0; i < ranks.size() && i < facts.size(); ++i) {
    const NvlinkFacts& f = facts[i];
    DiagCheck c = rank_row("nvlink", "nvlink", ranks[i].rank);
    if (!f.nvml_available) {
      c.verdict = Verdict::kSkip;
      c.hint = "NVML unavailable: " + f.unavailable_reason;
    } else if (!f.error.empty()) {
      c.verdict = Verdict::kWarn;
      c.hint = "NVML could not report the NVLink state: " + f.error;
    } else if (!f.supported) {
      c.verdict = Verdict::kSkip;
      c.hint = "the GPU reports no NVLink (NVML: not supported); peers are reached over PCIe";
    } else {
      c.number = f.links_active;
      c.unit = "links";
      c.value = fmt::format("{} of {} links active", f.links_active, f.links_checked);
      if (!f.remote_bus_ids.empty()) {
        c.value +=
            fmt::format(", {} remote endpoint{} ({})", f.remote_bus_ids.size(),
                        f.remote_bus_ids.size() > 1 ? "s" : "", fmt::join(f.remote_bus_ids, ", "));
      }
      if (f.links_active == 0 && ranks.size() > 1) {
        c.verdict = Verdict::kWarn;
        c.hint = fmt::format(
            "no active NVLink link (of {}): traffic between the GPUs takes PCIe; check "
            "`nvidia-smi nvlink -s` and the fabric manager",
            f.links_checked);
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

// ---- cumem --------------------------------------------------------------------------------------

std::vector<DiagCheck> cumem_checks(const std::vector<RankFacts>& ranks,
                                    const std::vector<CumemFacts>& facts) {
  std::vector<DiagCheck> out;
  for (std::size_t i = 0; i < ranks.size() && i < facts.size(); ++i) {
    const CumemFacts& f = facts[i];
    DiagCheck c = rank_row("cumem", "cumem_caps", ranks[i].rank);
    if (!f.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "reading the cuMem device attributes failed: " + f.error;
    } else {
      c.value = fmt::format("VMM {}, POSIX-fd handles {}, fabric handles {}", yes_no(f.vmm),
                            yes_no(f.posix_fd), yes_no(f.fabric));
      if (!f.vmm) {
        c.verdict = Verdict::kFail;
        c.hint =
            "no CUDA virtual memory management (CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_"
            "SUPPORTED is 0): the ipc and fabric workspaces are built with cuMem; update the "
            "driver";
      } else if (!f.posix_fd) {
        c.verdict = Verdict::kWarn;
        c.hint =
            "no POSIX-fd cuMem handles: the single-host ipc workspace is unavailable, only "
            "fabric handles remain";
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

// ---- ipc ----------------------------------------------------------------------------------------

DiagCheck ipc_check(const std::vector<RankFacts>& ranks, const std::vector<IpcFacts>& facts) {
  DiagCheck c;
  c.group = "ipc";
  c.name = "ipc_workspace";
  c.scope = DiagScope::kJob;
  if (!single_host(ranks)) {
    const auto hosts = distinct(ranks, [](const RankFacts& r) { return r.host; });
    c.verdict = Verdict::kSkip;
    c.hint = fmt::format(
        "the ranks span hosts ({}): the ipc workspace needs one host; the fabric checks cover "
        "this job",
        describe_groups(hosts));
    return c;
  }
  std::vector<int> failed;
  std::string first_error;
  bool attempted = false;
  for (std::size_t i = 0; i < facts.size() && i < ranks.size(); ++i) {
    attempted = attempted || facts[i].attempted;
    if (facts[i].attempted && !facts[i].ok) {
      failed.push_back(ranks[i].rank);
      if (first_error.empty()) first_error = facts[i].error;
    }
  }
  if (!attempted) {
    c.verdict = Verdict::kSkip;
    c.hint = "not attempted";
    return c;
  }
  if (failed.empty()) {
    c.verdict = Verdict::kPass;
    c.value = facts.front().describe;
    if (ranks.size() == 1) c.value += " (single rank: mapped, not shared)";
    return c;
  }
  c.verdict = Verdict::kFail;
  c.ranks = failed;
  c.value = "failed";
  c.hint = fmt::format("the ipc workspace could not be built (rank{} {}): {}",
                       failed.size() > 1 ? "s" : "", format_ranks(failed), first_error);
  return c;
}

// ---- fabric -------------------------------------------------------------------------------------

std::vector<DiagCheck> fabric_checks(const std::vector<RankFacts>& ranks,
                                     const std::vector<FabricFacts>& facts,
                                     const std::vector<FabricImportFacts>& imports) {
  std::vector<DiagCheck> out;
  const std::size_t n = std::min(ranks.size(), facts.size());
  for (std::size_t i = 0; i < n; ++i) {
    DiagCheck c = rank_row("fabric", "fabric_attribute", ranks[i].rank);
    c.value = std::string(facts[i].attribute ? "1" : "0");
    if (facts[i].attribute) {
      c.verdict = Verdict::kPass;
    } else {
      c.verdict = Verdict::kFail;
      c.hint =
          "CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED is 0: this GPU/driver offers no "
          "fabric handles (they need a multi-node NVLink system such as GB200 NVL72)";
    }
    out.push_back(std::move(c));
  }
  for (std::size_t i = 0; i < n; ++i) {
    const FabricFacts& f = facts[i];
    DiagCheck c = rank_row("fabric", "fabric_create", ranks[i].rank);
    if (!f.attribute) {
      c.verdict = Verdict::kSkip;
      c.hint = "the fabric-handle attribute is 0 (see fabric_attribute)";
    } else if (!f.attempted) {
      c.verdict = Verdict::kSkip;
      c.hint = f.error.empty() ? "not attempted" : f.error;
    } else if (f.create_ok) {
      c.verdict = Verdict::kPass;
      c.value =
          fmt::format("cuMemCreate + export of {} (CU_MEM_HANDLE_TYPE_FABRIC)", fmt_bytes(f.bytes));
    } else {
      c.verdict = Verdict::kFail;
      c.value =
          fmt::format("{} failed: {}", f.failed_step, f.cu_name.empty() ? "error" : f.cu_name);
      if (f.cu_result == kCuErrorNotPermitted) {
        c.hint = fmt::format(
            "{} answered CUDA_ERROR_NOT_PERMITTED (operation not permitted): fabric handles need "
            "an IMEX channel this process can open, and there is none: checked {}",
            f.failed_step, f.imex);
      } else {
        c.hint = fmt::format("{} failed: {}{}; checked {}", f.failed_step,
                             f.cu_name.empty() ? f.error : f.cu_name,
                             f.cu_text.empty() ? "" : " (" + f.cu_text + ")", f.imex);
      }
      c.detail = f.explanation;
    }
    out.push_back(std::move(c));
  }
  if (ranks.size() < 2) {
    out.push_back(single_rank_skip("fabric", "fabric_import"));
    return out;
  }
  for (const auto& im : imports) {
    DiagCheck c = pair_row("fabric", "fabric_import", im.importer, im.exporter);
    const auto created = [&](int r) {
      for (std::size_t i = 0; i < n; ++i) {
        if (ranks[i].rank == r) return facts[i].create_ok;
      }
      return false;
    };
    if (!created(im.exporter)) {
      c.verdict = Verdict::kSkip;
      c.hint =
          fmt::format("rank {} has no fabric handle to export (see fabric_create)", im.exporter);
    } else if (!created(im.importer)) {
      c.verdict = Verdict::kSkip;
      c.hint = fmt::format("rank {} cannot use fabric handles (see fabric_create)", im.importer);
    } else if (!im.attempted) {
      c.verdict = Verdict::kSkip;
      c.hint = im.error.empty() ? "not attempted" : im.error;
    } else if (im.ok) {
      c.verdict = Verdict::kPass;
      c.value =
          fmt::format("rank {} imported and mapped rank {}'s handle", im.importer, im.exporter);
    } else {
      c.verdict = Verdict::kFail;
      c.value = im.cu_name.empty() ? "failed" : im.cu_name;
      if (im.cu_result == kCuErrorNotPermitted) {
        c.hint = fmt::format(
            "cuMemImportFromShareableHandle of rank {}'s fabric handle answered "
            "CUDA_ERROR_NOT_PERMITTED: the importing process lacks the exporter's IMEX channel "
            "(both need access to the same channel, and the IMEX service must link the nodes)",
            im.exporter);
      } else {
        c.hint = fmt::format("importing or mapping rank {}'s fabric handle failed: {}", im.exporter,
                             im.error);
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

void apply_fabric_fallback(std::vector<DiagCheck>& checks, const std::vector<RankFacts>& ranks) {
  std::optional<Verdict> ipc;
  for (const auto& c : checks) {
    if (c.name == "ipc_workspace") ipc = c.verdict;
  }
  const bool one_host = single_host(ranks);
  std::string suffix;
  bool downgrade = false;
  if (ranks.size() < 2) {
    downgrade = true;
    suffix = "; a single rank needs no fabric handles";
  } else if (one_host && ipc == Verdict::kPass) {
    downgrade = true;
    suffix = fmt::format(
        "; not needed here: all ranks share host {} and the ipc workspace works (--workspace "
        "ipc, or auto, which picks it)",
        ranks.front().host);
  } else if (one_host && !ipc) {
    downgrade = true;
    suffix = fmt::format(
        "; all ranks share host {}, so the ipc workspace can replace fabric handles (not checked "
        "in this run: add ipc to --checks)",
        ranks.front().host);
  } else if (!one_host) {
    suffix = "; the ranks span several hosts, so no other cross-GPU path exists";
  } else {
    suffix = "; and the ipc workspace failed too: no cross-GPU path works";
  }
  for (auto& c : checks) {
    if (c.group != "fabric" || c.verdict != Verdict::kFail) continue;
    c.verdict = downgrade ? Verdict::kWarn : Verdict::kFail;
    c.hint += suffix;
  }
}

// ---- visibility ---------------------------------------------------------------------------------

std::vector<DiagCheck> visibility_checks(const std::vector<RankFacts>& ranks,
                                         const std::vector<VisibilityFacts>& facts) {
  if (ranks.size() < 2) return {single_rank_skip("visibility", "visibility")};
  std::vector<VisibilityFacts> sorted = facts;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const VisibilityFacts& x, const VisibilityFacts& y) {
                     return std::pair(x.writer, x.reader) < std::pair(y.writer, y.reader);
                   });
  std::vector<DiagCheck> out;
  for (const auto& f : sorted) {
    DiagCheck c = pair_row("visibility", "visibility", f.writer, f.reader);
    if (!f.skip_reason.empty()) {
      c.verdict = Verdict::kSkip;
      c.hint = f.skip_reason;
    } else if (!f.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "the signature check failed to run: " + f.error;
    } else if (f.read_mismatches != 0 || f.write_mismatches != 0) {
      c.verdict = Verdict::kFail;
      c.value = fmt::format("remote read {} bad, remote write {} bad of {} words",
                            f.read_mismatches, f.write_mismatches, f.words);
      std::vector<std::string> parts;
      if (f.read_mismatches != 0) {
        parts.push_back(fmt::format(
            "rank {} read {} of {} words of rank {}'s segment wrong through the mapping (first at "
            "word {}: expected {:#010x}, got {:#010x})",
            f.reader, f.read_mismatches, f.words, f.writer, f.read_first_bad, f.read_expected,
            f.read_actual));
      }
      if (f.write_mismatches != 0) {
        parts.push_back(fmt::format(
            "rank {}'s writes into rank {}'s segment arrived wrong in {} of {} words (first at "
            "word {}: expected {:#010x}, got {:#010x})",
            f.writer, f.reader, f.write_mismatches, f.words, f.write_first_bad, f.write_expected,
            f.write_actual));
      }
      c.hint = fmt::format(
          "{}: the mapped segments do not alias the peer's memory (wrong VA "
          "layout or stride, or a stale mapping)",
          fmt::join(parts, "; "));
    } else {
      c.verdict = Verdict::kPass;
      c.value = fmt::format("{} words: remote read ok, remote write ok", f.words);
    }
    out.push_back(std::move(c));
  }
  return out;
}

// ---- latency ------------------------------------------------------------------------------------

std::vector<DiagCheck> latency_checks(const std::vector<RankFacts>& ranks,
                                      const std::vector<LatencyFacts>& facts) {
  std::vector<DiagCheck> out;
  const bool single = ranks.size() < 2;
  for (const auto& f : facts) {
    const bool self = f.from == f.to;
    DiagCheck c = self ? rank_row("latency", "latency_self", f.from)
                       : pair_row("latency", "latency", f.from, f.to);
    if (!f.skip_reason.empty()) {
      c.verdict = Verdict::kSkip;
      c.hint = f.skip_reason;
    } else if (f.timed_out) {
      c.verdict = Verdict::kFail;
      c.value = "timeout";
      c.hint = self ? fmt::format(
                          "the two ping-pong kernels on rank {}'s GPU did not answer each "
                          "other (round {}, {} gave up): they could not run at once "
                          "(another process occupying the GPU, or MPS limits?)",
                          f.from, f.failed_round, f.failed_side)
                    : fmt::format(
                          "no answer between ranks {} and {} in round {} ({} gave up at "
                          "the timeout): a flag written through the mapping never "
                          "arrived: dead link, or the peer's kernel did not run",
                          f.from, f.to, f.failed_round, f.failed_side);
    } else if (!f.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "the latency probe failed: " + f.error;
    } else {
      c.value = fmt::format("p50 {} us, p99 {} us, mean {} us ({} rounds){}", fmt_us(f.p50_s),
                            fmt_us(f.p99_s), fmt_us(f.mean_s), f.rounds,
                            self ? "; self: two streams on one GPU, not a link" : "");
      c.number = f.p50_s * 1e6;
      c.unit = "us";
      if (!self && f.p50_s > kLatencyWarnS) {
        c.verdict = Verdict::kWarn;
        c.hint = fmt::format(
            "one-way latency p50 {} us is above {} us (NVLink is about 0.7 us): the path may go "
            "over PCIe or host memory; check `nvidia-smi topo -m`",
            fmt_us(f.p50_s), fmt_us(kLatencyWarnS));
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    // Self rows are shown on a single rank, and whenever they are not PASS.
    if (self && !single && c.verdict == Verdict::kPass) continue;
    out.push_back(std::move(c));
  }
  if (single) out.push_back(single_rank_skip("latency", "latency"));
  return out;
}

std::vector<DiagMatrix> latency_matrices(int world_size, const std::vector<LatencyFacts>& facts,
                                         std::string_view method) {
  DiagMatrix p50;
  p50.name = "latency_p50";
  p50.title = "one-way flag latency, p50";
  p50.unit = "s";
  p50.method = std::string(method);
  p50.size = world_size;
  p50.values.assign(static_cast<std::size_t>(world_size) * static_cast<std::size_t>(world_size),
                    std::nullopt);
  DiagMatrix p99 = p50;
  p99.name = "latency_p99";
  p99.title = "one-way flag latency, p99";
  for (const auto& f : facts) {
    if (!f.ran || f.timed_out || !f.error.empty() || !f.skip_reason.empty()) continue;
    p50.set(f.from, f.to, f.p50_s);
    p99.set(f.from, f.to, f.p99_s);
    if (f.from == f.to) {
      p50.diagonal = p99.diagonal = "self: two streams on the same GPU, not a link";
    } else {
      p50.set(f.to, f.from, f.p50_s);
      p99.set(f.to, f.from, f.p99_s);
    }
  }
  return {p50, p99};
}

// ---- bandwidth ----------------------------------------------------------------------------------

std::vector<DiagCheck> bandwidth_checks(const std::vector<RankFacts>& ranks,
                                        const std::vector<BandwidthFacts>& facts) {
  std::vector<DiagCheck> out;
  const bool single = ranks.size() < 2;
  for (const auto& f : facts) {
    const bool self = f.from == f.to;
    DiagCheck c = self ? rank_row("bandwidth", "copy_bandwidth_self", f.from)
                       : pair_row("bandwidth", "copy_bandwidth", f.from, f.to);
    if (!f.skip_reason.empty()) {
      c.verdict = Verdict::kSkip;
      c.hint = f.skip_reason;
    } else if (!f.error.empty()) {
      c.verdict = Verdict::kFail;
      c.hint = "the copy failed: " + f.error;
    } else {
      c.value = fmt::format("{} GB/s ({} x {}){}", fmt_gbps(f.Bps), fmt_bytes(f.bytes), f.reps,
                            self ? "; self: device-local copy, not a link" : "");
      c.number = f.Bps / 1e9;
      c.unit = "GB/s";
      if (!self && f.Bps < kBandwidthWarnBps) {
        c.verdict = Verdict::kWarn;
        c.hint = fmt::format(
            "copy bandwidth {} GB/s is below {} GB/s: these GPUs do not talk over NVLink (PCIe or "
            "host staging); check `nvidia-smi topo -m` and `nvidia-smi nvlink -s`",
            fmt_gbps(f.Bps), fmt_gbps(kBandwidthWarnBps));
      } else {
        c.verdict = Verdict::kPass;
      }
    }
    if (self && !single && c.verdict == Verdict::kPass) continue;
    out.push_back(std::move(c));
  }
  if (single) out.push_back(single_rank_skip("bandwidth", "copy_bandwidth"));
  return out;
}

DiagMatrix bandwidth_matrix(int world_size, const std::vector<BandwidthFacts>& facts,
                            std::string_view method) {
  DiagMatrix m;
  m.name = "copy_bandwidth";
  m.title = "copy bandwidth, source rank's GPU into the destination rank's buffer";
  m.unit = "B/s";
  m.method = std::string(method);
  m.size = world_size;
  m.values.assign(static_cast<std::size_t>(world_size) * static_cast<std::size_t>(world_size),
                  std::nullopt);
  for (const auto& f : facts) {
    if (!f.ran || !f.error.empty() || !f.skip_reason.empty()) continue;
    m.set(f.from, f.to, f.Bps);
    if (f.from == f.to) m.diagonal = "self: device-local copy on the same GPU, not a link";
  }
  return m;
}

// ---- smoke --------------------------------------------------------------------------------------

DiagCheck smoke_check(const SmokeFacts& f) {
  DiagCheck c;
  c.group = "smoke";
  c.name = "native_smoke";
  c.scope = DiagScope::kJob;
  const std::string note = f.note.empty() ? "" : "; " + f.note;
  if (!f.ran) {
    c.verdict = Verdict::kSkip;
    c.hint = f.skip_reason.empty() ? "not run" : f.skip_reason;
  } else if (!f.error.empty()) {
    c.verdict = Verdict::kFail;
    c.value = f.case_key;
    c.hint = "the native exchange failed: " + f.error;
  } else if (f.status == "skipped") {
    c.verdict = Verdict::kSkip;
    c.value = f.case_key;
    c.hint = f.skip_reason.empty() ? "the runner skipped the case" : f.skip_reason;
  } else if (!f.exact || f.status != "ok") {
    c.verdict = Verdict::kFail;
    c.value = fmt::format("{}: {}", f.status, f.case_key);
    c.hint = fmt::format("the native exchange is not bit-exact here: {}{}", f.verify, note);
  } else {
    c.verdict = Verdict::kPass;
    c.value = fmt::format("bit-exact ({}), p50 {} us per exchange; {}{}", f.verify, fmt_us(f.p50_s),
                          f.case_key, note);
    c.number = f.p50_s * 1e6;
    c.unit = "us";
  }
  return c;
}

// ---- aggregation --------------------------------------------------------------------------------

DiagSummary summarize(const std::vector<DiagCheck>& checks) {
  DiagSummary s;
  for (const auto& c : checks) {
    switch (c.verdict) {
      case Verdict::kPass:
        ++s.pass;
        break;
      case Verdict::kWarn:
        ++s.warn;
        break;
      case Verdict::kFail:
        ++s.fail;
        break;
      case Verdict::kSkip:
        ++s.skip;
        break;
    }
  }
  s.exit_code =
      s.fail > 0 ? static_cast<int>(ExitCode::kCheckFailed) : static_cast<int>(ExitCode::kSuccess);
  return s;
}

}  // namespace dcp::diag
