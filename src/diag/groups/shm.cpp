#include "diag/groups/shm.hpp"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "diag/groups/nccl.hpp"
#include "diag/rules.hpp"
#include "diag/wire.hpp"

namespace dcp::diag {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ShmFacts, path, ok, error, total_bytes, avail_bytes)

std::string encode(const ShmFacts& f) {
  return wire::encode(f);
}
void decode(std::string_view text, ShmFacts& out) {
  wire::decode(text, out, "shm facts");
}

ShmFacts probe_shm(std::string_view path) {
  ShmFacts f;
  f.path = std::string(path);
  struct statvfs s {};
  if (statvfs(f.path.c_str(), &s) != 0) {
    f.error = fmt::format("statvfs({}) failed: {}", f.path, std::strerror(errno));
    return f;
  }
  f.ok = true;
  f.total_bytes = static_cast<std::uint64_t>(s.f_blocks) * s.f_frsize;
  f.avail_bytes = static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
  return f;
}

namespace {

std::string mib(std::uint64_t b) {
  return fmt::format("{:.0f} MiB", static_cast<double>(b) / (1 << 20));
}

}  // namespace

std::vector<DiagCheck> shm_checks(const std::vector<RankFacts>& ranks,
                                  const std::vector<ShmFacts>& facts) {
  struct HostGroup {
    std::string host;
    ShmFacts f;
    std::vector<int> ranks;
    int on_host = 0;  ///< ranks of the job on this host
  };
  std::vector<HostGroup> groups;
  for (std::size_t i = 0; i < ranks.size() && i < facts.size(); ++i) {
    const RankFacts& r = ranks[i];
    const ShmFacts& f = facts[i];
    auto it = std::find_if(groups.begin(), groups.end(), [&](const HostGroup& g) {
      return g.host == r.host && g.f.ok == f.ok && g.f.total_bytes == f.total_bytes;
    });
    if (it == groups.end()) {
      groups.push_back({r.host, f, {r.rank}, 0});
    } else {
      it->ranks.push_back(r.rank);
      it->f.avail_bytes = std::min(it->f.avail_bytes, f.avail_bytes);
    }
  }
  const std::string nccl =
      ranks.empty() || ranks.front().nccl_version.empty() ? "" : ranks.front().nccl_version;
  const auto v = parse_nccl_version(nccl);
  const bool nccl_2_31 = v && (*v)[0] == 2 && (*v)[1] >= 31;
  std::vector<DiagCheck> out;
  for (auto& g : groups) {
    g.on_host = static_cast<int>(std::count_if(
        ranks.begin(), ranks.end(), [&](const RankFacts& r) { return r.host == g.host; }));
    DiagCheck c = job_row("shm", "shm_size", g.ranks);
    const std::string fix = fmt::format(
        "give host {}'s containers a larger /dev/shm: docker run --shm-size=1g (Kubernetes: an "
        "emptyDir volume with medium: Memory mounted at /dev/shm); on a bare host: mount -o "
        "remount,size=1G {}",
        g.host, g.f.path);
    if (!g.f.ok) {
      c.verdict = Verdict::kFail;
      c.value = "unreadable";
      c.hint = fmt::format("{}: NCCL keeps its shared-memory segments there", g.f.error);
      c.remedy = fmt::format(
          "mount a tmpfs at {} (docker run --shm-size=1g, or mount -t tmpfs -o "
          "size=1G tmpfs {})",
          g.f.path, g.f.path);
      out.push_back(std::move(c));
      continue;
    }
    c.value = fmt::format("host {}: {} available of {}, {} rank{} on the host", g.host,
                          mib(g.f.avail_bytes), mib(g.f.total_bytes), g.on_host,
                          g.on_host == 1 ? "" : "s");
    c.number = static_cast<double>(g.f.avail_bytes);
    c.unit = std::string(
        1, 'B');  // bytes (std::string(1, ...) dodges a GCC 12 -Wrestrict false positive)
    const std::uint64_t need = kShmPerLocalRankBytes * static_cast<std::uint64_t>(g.on_host);
    const std::string version_note =
        nccl_2_31 ? fmt::format("; NCCL {} is reported to need more than Docker's 64 MiB", nccl)
                  : "";
    if (g.f.total_bytes <= kShmDockerDefaultBytes && g.on_host >= 2) {
      c.verdict = Verdict::kFail;
      c.hint = fmt::format(
          "{} is {} in all, Docker's default: NCCL's shared-memory segments for {} ranks do not "
          "fit (init fails with \"No space left on device\" or a bus error){}",
          g.f.path, mib(g.f.total_bytes), g.on_host, version_note);
    } else if (g.f.avail_bytes < need) {
      c.verdict = Verdict::kFail;
      c.hint = fmt::format(
          "{} has {} available, below the estimated {} for {} rank{} ({} per rank): NCCL init "
          "will fail to create its segments{}",
          g.f.path, mib(g.f.avail_bytes), mib(need), g.on_host, g.on_host == 1 ? "" : "s",
          mib(kShmPerLocalRankBytes), version_note);
    } else if (g.f.avail_bytes < kShmRecommendedBytes) {
      c.verdict = Verdict::kWarn;
      c.hint = fmt::format(
          "{} has {} available, below the 1 GiB NCCL's troubleshooting guide asks for in "
          "containers{}",
          g.f.path, mib(g.f.avail_bytes), version_note);
    } else {
      c.verdict = Verdict::kPass;
    }
    if (c.verdict != Verdict::kPass) c.remedy = fix;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dcp::diag
