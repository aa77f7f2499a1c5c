#include "cli/context.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "core/build_info.hpp"
#include "core/error.hpp"
#include "report/context_json.hpp"
#include "report/json_read.hpp"

namespace dcp::cli {

std::string utc_now_iso8601() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

RunContext collect_context(const World& world, const RankInfo& mine,
                           const std::vector<std::string>& argv, const std::string& nccl_compiled,
                           const std::vector<std::string>& notes) {
  const auto all =
      world.allgather_strings(report::rank_info_to_json(mine).dump(), "rank descriptions");

  RunContext ctx;
  const BuildInfo b = build_info();
  ctx.tool_version = b.version;
  ctx.git_sha = b.git_sha;
  ctx.build_type = b.build_type;
  ctx.argv = argv;
  ctx.utc_time = utc_now_iso8601();
  ctx.world_size = world.size();
  ctx.nccl_compiled_version = nccl_compiled;
  ctx.notes = notes;
  std::map<std::string, int> per_gpu;
  for (const auto& text : all) {
    RankInfo r = report::rank_info_from_json(
        report::parse_json(text, report::JsonSource{"rank description", "gather"}),
        "rank description", "gather", "rank");
    if (std::find(ctx.hosts.begin(), ctx.hosts.end(), r.host) == ctx.hosts.end()) {
      ctx.hosts.push_back(r.host);
    }
    ++per_gpu[r.gpu_name];
    ctx.ranks.push_back(std::move(r));
  }
  std::string gpus;
  for (const auto& [name, n] : per_gpu)
    gpus += fmt::format("{}{} x{}", gpus.empty() ? "" : ", ", name, n);
  ctx.topology = fmt::format("{} host(s), {} rank(s), {} per host; {}", ctx.hosts.size(),
                             world.size(), world.local_size(), gpus);
  return ctx;
}

}  // namespace dcp::cli
