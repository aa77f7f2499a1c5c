#include "report/spec_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "report/json_read.hpp"

namespace dcp::report {

namespace {

using nlohmann::json;

std::string type_name(const json& v) {
  return v.type_name();
}

std::string short_dump(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

/// The value as a list: a list stays a list, a scalar becomes a one-element list.
std::vector<json> as_list(const json& v) {
  if (v.is_array()) return std::vector<json>(v.begin(), v.end());
  return {v};
}

std::int64_t to_int(const json& v, std::string_view field, std::string_view accepted) {
  // A value outside int64 is refused before any conversion: casting such a double is undefined
  // behaviour, and an unsigned one would wrap to a negative number.
  constexpr double kTwo63 = 9223372036854775808.0;
  constexpr auto kMaxInt64 = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const auto out_of_range = [&] {
    return ConfigError(
        fmt::format("{}: {} is out of range; accepted: {}", field, short_dump(v), accepted));
  };
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > kMaxInt64) throw out_of_range();
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d == std::trunc(d)) {
      if (d >= -kTwo63 && d < kTwo63) return static_cast<std::int64_t>(d);
      throw out_of_range();
    }
  }
  throw ConfigError(fmt::format("{}: {} ({}) is not an integer; accepted: {}", field, short_dump(v),
                                type_name(v), accepted));
}

int to_int32(const json& v, std::string_view field, std::string_view accepted) {
  const std::int64_t x = to_int(v, field, accepted);
  if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max()) {
    throw ConfigError(fmt::format("{}: {} is out of range; accepted: {}", field, x, accepted));
  }
  return static_cast<int>(x);
}

std::string to_str(const json& v, std::string_view field, std::string_view accepted) {
  if (!v.is_string()) {
    throw ConfigError(fmt::format("{}: {} ({}) is not a string; accepted: {}", field, short_dump(v),
                                  type_name(v), accepted));
  }
  return v.get<std::string>();
}

/// A string entry of a list: an empty or blank one is refused as such (not as an unknown value).
std::string to_entry(const json& v, std::size_t index, std::string_view field,
                     std::string_view accepted) {
  const std::string s = to_str(v, field, accepted);
  if (s.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw ConfigError(fmt::format("{}: entry {} of the list is {}; accepted: {}", field, index + 1,
                                  s.empty() ? "empty" : "blank", accepted));
  }
  return s;
}

template <typename T, typename Parse>
std::vector<T> parse_named_list(const json& v, std::string_view field, const std::string& accepted,
                                Parse parse) {
  std::vector<T> out;
  const std::vector<json> items = as_list(v);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string s = to_entry(items[i], i, field, accepted);
    auto parsed = parse(s);
    if (!parsed) {
      throw ConfigError(fmt::format("{}: unknown value '{}'; accepted: {}", field, s, accepted));
    }
    out.push_back(*parsed);
  }
  if (out.empty()) {
    throw ConfigError(fmt::format("{}: empty list; accepted: one or more of {}", field, accepted));
  }
  return out;
}

std::optional<bool> parse_on_off(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "on" || s == "true") return true;
    if (s == "off" || s == "false") return false;
  }
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& spec_keys() {
  static const std::vector<std::string> keys{
      "name", "description", "batch",     "head_dim", "stats_dim", "dtype", "cp_size",
      "impl", "workspace",   "launch",    "pdl",      "warmup",    "iters", "graph_calls",
      "ring", "seed",        "timeout_s", "stress",   "inject"};
  return keys;
}

nlohmann::ordered_json spec_to_json(const SweepSpec& spec) {
  const SweepAxes& a = spec.axes;
  const MeasureOptions& m = spec.measure;
  nlohmann::ordered_json j;
  j["batch"] = a.batch;
  j["head_dim"] = a.head_dim;
  j["stats_dim"] = a.stats_dim;
  auto names = [](const auto& values) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& v : values)
      arr.push_back(std::string(to_string(v)));
    return arr;
  };
  j["dtype"] = names(a.dtype);
  j["cp_size"] = a.cp_size;
  // An empty impl axis stands for the catalog's default set, which the report layer does not
  // know: it is left out (reading keeps the base's), and resolved sweeps always name theirs.
  if (!a.impl.empty()) j["impl"] = a.impl;
  j["workspace"] = names(a.workspace);
  j["launch"] = names(a.launch);
  nlohmann::ordered_json pdl = nlohmann::ordered_json::array();
  for (bool p : a.pdl)
    pdl.push_back(p ? "on" : "off");
  j["pdl"] = pdl;
  j["warmup"] = m.warmup;
  j["iters"] = m.iters;
  j["graph_calls"] = m.graph_calls;
  j["ring"] = m.ring;
  j["seed"] = m.seed;
  j["timeout_s"] = m.timeout_s;
  j["stress"] = m.stress_calls;
  if (m.inject) j["inject"] = to_string(*m.inject);
  return j;
}

SweepSpec spec_from_json(const nlohmann::json& j, const SweepSpec& base, std::string_view origin) {
  if (!j.is_object()) {
    throw ConfigError(
        fmt::format("config: {} must hold a JSON object, got {}", origin, type_name(j)));
  }
  const auto& keys = spec_keys();
  for (const auto& [key, value] : j.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      std::string accepted;
      for (const auto& k : keys)
        accepted += (accepted.empty() ? "" : ", ") + k;
      throw ConfigError(
          fmt::format("config: unknown key '{}' in {}; accepted: {}", key, origin, accepted));
    }
  }
  SweepSpec s = base;
  SweepAxes& a = s.axes;
  MeasureOptions& m = s.measure;
  auto has = [&](const char* k) { return j.contains(k); };

  for (const char* k : {"name", "description"}) {
    if (has(k)) (void)to_str(j.at(k), k, "a string");
  }
  if (has("batch")) {
    a.batch.clear();
    for (const auto& v : as_list(j.at("batch")))
      a.batch.push_back(to_int(v, "batch", "integers >= 0"));
  }
  if (has("head_dim")) {
    a.head_dim.clear();
    for (const auto& v : as_list(j.at("head_dim")))
      a.head_dim.push_back(to_int32(v, "head_dim", "positive multiples of 8"));
  }
  if (has("stats_dim")) {
    a.stats_dim.clear();
    for (const auto& v : as_list(j.at("stats_dim")))
      a.stats_dim.push_back(to_int32(v, "stats_dim", "even integers >= 2"));
  }
  if (has("cp_size")) {
    a.cp_size.clear();
    for (const auto& v : as_list(j.at("cp_size")))
      a.cp_size.push_back(to_int32(v, "cp_size", fmt::format("integers 1..{}", kMaxCpSize)));
  }
  if (has("dtype"))
    a.dtype = parse_named_list<DType>(j.at("dtype"), "dtype", accepted_dtypes(), parse_dtype);
  if (has("workspace"))
    a.workspace = parse_named_list<WorkspaceKind>(j.at("workspace"), "workspace",
                                                  accepted_workspaces(), parse_workspace);
  if (has("launch"))
    a.launch =
        parse_named_list<LaunchMode>(j.at("launch"), "launch", accepted_launches(), parse_launch);
  if (has("impl")) {
    a.impl.clear();
    const std::vector<json> items = as_list(j.at("impl"));
    for (std::size_t i = 0; i < items.size(); ++i)
      a.impl.push_back(to_entry(items[i], i, "impl", "implementation names"));
    if (a.impl.empty()) {
      throw ConfigError("impl: empty list; accepted: one or more implementation names");
    }
  }
  if (has("pdl")) {
    a.pdl.clear();
    for (const auto& v : as_list(j.at("pdl"))) {
      auto b = parse_on_off(v);
      if (!b) {
        throw ConfigError(fmt::format("pdl: {} is not allowed; accepted: on|off", short_dump(v)));
      }
      a.pdl.push_back(*b);
    }
  }
  if (has("warmup")) m.warmup = to_int32(j.at("warmup"), "warmup", "integers >= 0");
  if (has("iters")) m.iters = to_int32(j.at("iters"), "iters", "integers >= 1");
  if (has("graph_calls"))
    m.graph_calls = to_int32(j.at("graph_calls"), "graph_calls", "integers >= 1");
  if (has("ring")) {
    m.ring = to_int32(j.at("ring"), "ring", fmt::format("integers >= {}", kMinRingSize));
  }
  if (has("seed")) {
    const auto& v = j.at("seed");
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
      throw ConfigError(fmt::format("seed: {} is not allowed; accepted: an unsigned 64-bit integer",
                                    short_dump(v)));
    }
    m.seed = v.get<std::uint64_t>();
  }
  if (has("timeout_s")) {
    const auto& v = j.at("timeout_s");
    if (!v.is_number()) {
      throw ConfigError(
          fmt::format("timeout_s: {} ({}) is not a number; accepted: seconds in (0, {}]",
                      short_dump(v), type_name(v), kMaxTimeoutS));
    }
    m.timeout_s = v.get<double>();
  }
  if (has("stress")) m.stress_calls = to_int(j.at("stress"), "stress", "integers >= 0");
  if (has("inject")) {
    const auto& v = j.at("inject");
    if (v.is_null()) {
      m.inject.reset();
    } else {
      m.inject = parse_fault(to_str(v, "inject", "KIND[:rank]"));
    }
  }
  validate(s);
  return s;
}

nlohmann::json parse_json_text(std::string_view text, std::string_view origin) {
  return parse_json(text, JsonSource{"config", std::string(origin), JsonStyle::kInput});
}

nlohmann::json read_json_file(const std::string& path) {
  return report::read_json_file(JsonSource{"config", path, JsonStyle::kInput});
}

}  // namespace dcp::report
