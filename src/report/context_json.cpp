#include "report/context_json.hpp"

#include "report/json_read.hpp"

namespace dcp::report {

namespace {

using OJ = nlohmann::ordered_json;
using J = nlohmann::json;
using detail::child_path;
using detail::index_path;
using detail::JsonReader;

OJ strings_to_json(const std::vector<std::string>& v) {
  OJ a = OJ::array();
  for (const auto& s : v)
    a.push_back(s);
  return a;
}

std::vector<std::string> read_strings(const JsonReader& rd, const J& obj, const std::string& path,
                                      std::string_view key) {
  const J& arr = rd.array(obj, path, key);
  const std::string p = child_path(path, key);
  std::vector<std::string> out;
  out.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i)
    out.push_back(rd.as_string(arr[i], index_path(p, i)));
  return out;
}

RankInfo read_rank(const JsonReader& rd, const J& j, const std::string& p) {
  rd.expect_object(j, p);
  RankInfo r;
  r.rank = rd.get_int(j, p, "rank");
  r.local_rank = rd.get_int(j, p, "local_rank");
  r.host = rd.get_string(j, p, "host");
  r.device = rd.get_int(j, p, "device");
  r.gpu_name = rd.get_string(j, p, "gpu_name");
  r.gpu_uuid = rd.get_string(j, p, "gpu_uuid");
  r.pci_bus_id = rd.get_string(j, p, "pci_bus_id");
  r.sm_count = rd.get_int(j, p, "sm_count");
  r.cc_major = rd.get_int(j, p, "cc_major");
  r.cc_minor = rd.get_int(j, p, "cc_minor");
  r.driver_version = rd.get_string(j, p, "driver_version");
  r.runtime_version = rd.get_string(j, p, "runtime_version");
  r.nccl_version = rd.get_string(j, p, "nccl_version");
  return r;
}

}  // namespace

OJ rank_info_to_json(const RankInfo& r) {
  OJ j;
  j["rank"] = r.rank;
  j["local_rank"] = r.local_rank;
  j["host"] = r.host;
  j["device"] = r.device;
  j["gpu_name"] = r.gpu_name;
  j["gpu_uuid"] = r.gpu_uuid;
  j["pci_bus_id"] = r.pci_bus_id;
  j["sm_count"] = r.sm_count;
  j["cc_major"] = r.cc_major;
  j["cc_minor"] = r.cc_minor;
  j["driver_version"] = r.driver_version;
  j["runtime_version"] = r.runtime_version;
  j["nccl_version"] = r.nccl_version;
  return j;
}

OJ context_to_json(const RunContext& c) {
  OJ j;
  j["tool_version"] = c.tool_version;
  j["git_sha"] = c.git_sha;
  j["build_type"] = c.build_type;
  j["argv"] = strings_to_json(c.argv);
  j["utc_time"] = c.utc_time;
  j["world_size"] = c.world_size;
  j["hosts"] = strings_to_json(c.hosts);
  OJ ranks = OJ::array();
  for (const auto& r : c.ranks)
    ranks.push_back(rank_info_to_json(r));
  j["ranks"] = std::move(ranks);
  j["nccl_compiled_version"] = c.nccl_compiled_version;
  j["topology"] = c.topology;
  j["notes"] = strings_to_json(c.notes);
  return j;
}

RankInfo rank_info_from_json(const J& j, std::string_view what, std::string_view origin,
                             const std::string& path) {
  const JsonReader rd{std::string(what), std::string(origin)};
  return read_rank(rd, j, path);
}

RunContext context_from_json(const J& j, std::string_view what, std::string_view origin,
                             const std::string& path) {
  const JsonReader rd{std::string(what), std::string(origin)};
  rd.expect_object(j, path);
  RunContext c;
  c.tool_version = rd.get_string(j, path, "tool_version");
  c.git_sha = rd.get_string(j, path, "git_sha");
  c.build_type = rd.get_string(j, path, "build_type");
  c.argv = read_strings(rd, j, path, "argv");
  c.utc_time = rd.get_string(j, path, "utc_time");
  c.world_size = rd.get_int(j, path, "world_size");
  c.hosts = read_strings(rd, j, path, "hosts");
  const J& ranks = rd.array(j, path, "ranks");
  const std::string rp = child_path(path, "ranks");
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    c.ranks.push_back(read_rank(rd, ranks[i], index_path(rp, i)));
  }
  c.nccl_compiled_version = rd.get_string(j, path, "nccl_compiled_version");
  c.topology = rd.get_string(j, path, "topology");
  c.notes = read_strings(rd, j, path, "notes");
  return c;
}

}  // namespace dcp::report
