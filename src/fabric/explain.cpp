#include "fabric/explain.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

namespace dcp::fabric {

namespace {

constexpr int kCuErrorNotPermitted = 800;  // CUDA_ERROR_NOT_PERMITTED
constexpr int kCuErrorNotSupported = 801;  // CUDA_ERROR_NOT_SUPPORTED

/// "h1 (ranks 0, 1), h2 (rank 2)".
std::string hosts_summary(const std::vector<std::string>& hosts) {
  std::map<std::string, std::vector<int>> by_host;
  std::vector<std::string> order;
  for (std::size_t r = 0; r < hosts.size(); ++r) {
    if (by_host.find(hosts[r]) == by_host.end()) order.push_back(hosts[r]);
    by_host[hosts[r]].push_back(static_cast<int>(r));
  }
  std::vector<std::string> parts;
  for (const auto& h : order) {
    const auto& ranks = by_host[h];
    parts.push_back(
        fmt::format("{} (rank{} {})", h, ranks.size() > 1 ? "s" : "", fmt::join(ranks, ", ")));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string cause_of(const FabricFailure& f) {
  switch (f.step) {
    case FabricStep::kAttribute:
      return "the GPU or driver does not offer fabric handles "
             "(CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED is 0); they need a multi-node "
             "NVLink system (an NVSwitch fabric such as GB200 NVL72) and a driver that supports "
             "them";
    default:
      break;
  }
  if (f.cu_result == kCuErrorNotPermitted) {
    return fmt::format(
        "fabric handles need an IMEX channel that this process can open (CUDA answers "
        "CUDA_ERROR_NOT_PERMITTED without one): checked {}. Exporting and importing processes "
        "must also be granted the same channel",
        f.imex.summary());
  }
  if (f.cu_result == kCuErrorNotSupported) {
    return fmt::format(
        "the driver does not support fabric handles here (is the fabric manager / IMEX running "
        "and the GPU part of an NVLink fabric?); checked {}",
        f.imex.summary());
  }
  return fmt::format("checked {}", f.imex.summary());
}

}  // namespace

std::string ImexStatus::summary() const {
  std::string out;
  if (!dir_exists) {
    out = fmt::format("{} does not exist (so no {})", dir, kImexChannel0);
  } else if (!channel0_exists) {
    out = fmt::format(
        "{} exists but has no {} (channels found: {})", dir, kImexChannel0,
        channels.empty() ? std::string("none") : fmt::format("{}", fmt::join(channels, ", ")));
  } else if (!channel0_accessible) {
    return fmt::format("{}/{} exists but this process cannot open it read-write", dir,
                       kImexChannel0);
  } else {
    return fmt::format("{}/{} exists and is accessible", dir, kImexChannel0);
  }
  if (device_major >= 0) {
    out += fmt::format(
        ", though the driver registered the nvidia-caps-imex-channels device (major {} in {}): "
        "an administrator can create the channel with `mkdir -p {} && mknod {}/{} c {} 0` "
        "(multi-node sharing also needs the IMEX service)",
        device_major, kProcDevices, dir, dir, kImexChannel0, device_major);
  } else {
    out += fmt::format(
        ", and {} lists no nvidia-caps-imex-channels device (driver without IMEX "
        "support)",
        kProcDevices);
  }
  return out;
}

int device_major_in(std::string_view text, std::string_view name) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    // "242 nvidia-caps-imex-channels": number, spaces, name.
    std::size_t i = line.find_first_not_of(' ');
    if (i == std::string_view::npos) continue;
    const std::size_t digits_end = line.find_first_not_of("0123456789", i);
    if (digits_end == i || digits_end == std::string_view::npos) continue;
    const std::size_t name_start = line.find_first_not_of(' ', digits_end);
    if (name_start == digits_end || name_start == std::string_view::npos) continue;
    if (line.substr(name_start) != name) continue;
    int major = 0;
    for (std::size_t k = i; k < digits_end; ++k) {
      major = major * 10 + (line[k] - '0');
      if (major > 1 << 20) return -1;
    }
    return major;
  }
  return -1;
}

ImexStatus probe_imex(std::string_view dir, std::string_view proc_devices) {
  namespace fs = std::filesystem;
  ImexStatus s;
  s.dir = std::string(dir);
  {
    std::ifstream in{std::string(proc_devices)};
    std::stringstream text;
    text << in.rdbuf();
    s.device_major = device_major_in(text.str(), "nvidia-caps-imex-channels");
  }
  std::error_code ec;
  s.dir_exists = fs::is_directory(s.dir, ec);
  if (!s.dir_exists) return s;
  for (fs::directory_iterator it(s.dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("channel", 0) == 0) s.channels.push_back(name);
  }
  std::sort(s.channels.begin(), s.channels.end());
  const std::string ch0 = s.dir + "/" + std::string(kImexChannel0);
  s.channel0_exists = fs::exists(ch0, ec);
  s.channel0_accessible = s.channel0_exists && access(ch0.c_str(), R_OK | W_OK) == 0;
  return s;
}

std::string_view to_string(FabricStep s) {
  switch (s) {
    case FabricStep::kAttribute:
      return "the fabric-handle device attribute";
    case FabricStep::kGranularity:
      return "cuMemGetAllocationGranularity for CU_MEM_HANDLE_TYPE_FABRIC";
    case FabricStep::kCreate:
      return "cuMemCreate with CU_MEM_HANDLE_TYPE_FABRIC";
    case FabricStep::kExport:
      return "cuMemExportToShareableHandle(CU_MEM_HANDLE_TYPE_FABRIC)";
    case FabricStep::kImport:
      return "cuMemImportFromShareableHandle(CU_MEM_HANDLE_TYPE_FABRIC) of a peer's handle";
    case FabricStep::kMap:
      return "mapping the imported fabric segments";
  }
  return "fabric set-up";
}

std::string explain_fabric_failure(const FabricFailure& f) {
  std::string msg = fmt::format("workspace fabric: {} failed on rank(s) {}", to_string(f.step),
                                f.failed_ranks.empty() ? std::string("?") : f.failed_ranks);
  if (f.step != FabricStep::kAttribute && !f.cu_name.empty()) {
    msg += fmt::format(": {}{}", f.cu_name, f.cu_text.empty() ? "" : " (" + f.cu_text + ")");
  }
  std::string cause = cause_of(f);
  if (!cause.empty() && cause[0] >= 'a' && cause[0] <= 'z') {
    cause[0] = static_cast<char>(cause[0] - 'a' + 'A');
  }
  msg += ". " + cause + ".";
  if (f.single_host) {
    msg += fmt::format(
        " All {} rank(s) share host {}: use --workspace ipc (cuMem POSIX fds passed over a "
        "Unix socket), or --workspace auto, which picks ipc here.",
        f.world_size, f.host);
  } else {
    msg +=
        " The ranks span several hosts, so the single-host ipc workspace is no alternative: "
        "fix the IMEX set-up, or run all ranks on one host with --workspace ipc.";
  }
  if (!f.local_error.empty()) msg += " This rank's error: " + f.local_error;
  return msg;
}

std::string explain_auto_failure(std::string_view fabric_reason,
                                 const std::vector<std::string>& hosts) {
  return fmt::format(
      "workspace auto: no usable workspace. fabric: {} ipc: needs every rank on one host, but "
      "the ranks run on {}. Run all ranks on one host (ipc) or fix the fabric/IMEX set-up.",
      fabric_reason, hosts_summary(hosts));
}

std::string explain_ipc_multi_host(const std::vector<std::string>& hosts) {
  return fmt::format(
      "workspace ipc: passes POSIX fds over a Unix socket, so every rank must run on one host, "
      "but the ranks run on {}. Use --workspace fabric on a multi-node NVLink (MNNVL) system "
      "with IMEX, or run all ranks on one host.",
      hosts_summary(hosts));
}

}  // namespace dcp::fabric
