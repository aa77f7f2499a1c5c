#include "report/spec_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/models.hpp"
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

/// Keys of one block (the axes); a config's top level may hold them too.
const std::vector<std::string>& axis_keys() {
  static const std::vector<std::string> keys{
      "name",      "description", "op",    "batch",   "tokens", "heads",     "model",  "head_dim",
      "stats_dim", "lse_base",    "dtype", "cp_size", "impl",   "workspace", "launch", "pdl"};
  return keys;
}

/// The keys that say what is computed: a config that sets one of them at its top level
/// describes its own sweep, and the blocks of the base are dropped.
bool is_shape_key(std::string_view k) {
  for (const char* s :
       {"op", "batch", "tokens", "heads", "model", "head_dim", "stats_dim", "lse_base"}) {
    if (k == s) return true;
  }
  return false;
}

void refuse_unknown_keys(const json& j, const std::vector<std::string>& keys,
                         std::string_view where, std::string_view origin) {
  for (const auto& [key, value] : j.items()) {
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    std::string accepted;
    for (const auto& k : keys) {
      if (!accepted.empty()) accepted += ", ";
      accepted += k;
    }
    throw ConfigError(fmt::format("config: unknown key '{}' in {}{}; accepted: {}", key, where,
                                  origin, accepted));
  }
}

/// Applies the axis keys present in `j` to `a`. "batch" selects the entries vocabulary (clears
/// tokens, heads and model); "tokens" the tokens x heads one (batch is then unused and reset to
/// its default, so that a spec reads back equal). Both in one object are refused.
void apply_axes(const json& j, SweepAxes& a) {
  auto has = [&](const char* k) { return j.contains(k); };
  for (const char* k : {"name", "description"}) {
    if (has(k)) (void)to_str(j.at(k), k, "a string");
  }
  if (has("op")) a.op = parse_named_list<Op>(j.at("op"), "op", accepted_ops(), parse_op);
  if (has("batch") && has("tokens") && !as_list(j.at("tokens")).empty()) {
    throw ConfigError(
        "batch: given together with tokens; accepted: one shape vocabulary per block, batch "
        "(entries) or tokens with heads or model (E = tokens x heads)");
  }
  if (has("batch")) {
    a.batch.clear();
    for (const auto& v : as_list(j.at("batch")))
      a.batch.push_back(to_int(v, "batch", "integers >= 0"));
    a.tokens.clear();
    a.heads.clear();
    a.model.clear();
  }
  if (has("tokens")) {
    a.tokens.clear();
    for (const auto& v : as_list(j.at("tokens")))
      a.tokens.push_back(to_int(v, "tokens", "integers >= 1"));
  }
  if (has("heads")) {
    a.heads.clear();
    for (const auto& v : as_list(j.at("heads")))
      a.heads.push_back(to_int32(v, "heads", "integers >= 1 (query heads per rank)"));
  }
  if (has("model")) {
    a.model.clear();
    const std::vector<json> items = as_list(j.at("model"));
    for (std::size_t i = 0; i < items.size(); ++i)
      a.model.push_back(to_entry(items[i], i, "model", accepted_models()));
  }
  if (has("lse_base")) {
    a.lse_base.clear();
    const std::vector<json> items = as_list(j.at("lse_base"));
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string t = to_entry(items[i], i, "lse_base", accepted_lse_bases());
      const auto b = parse_lse_base(t);
      if (!b) {
        throw ConfigError(
            fmt::format("lse_base: unknown value '{}'; accepted: {}", t, accepted_lse_bases()));
      }
      a.lse_base.push_back(*b);
    }
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
  check_explicit_shape(a, has("head_dim"), has("stats_dim"));
  reset_unused_axes(a);
}

template <typename Json>
Json names_of(const auto& values) {
  Json arr = Json::array();
  for (const auto& v : values)
    arr.push_back(std::string(to_string(v)));
  return arr;
}

nlohmann::ordered_json axes_to_json(const SweepAxes& a) {
  using OJ = nlohmann::ordered_json;
  OJ j;
  j["op"] = names_of<OJ>(a.op);
  if (a.tokens.empty()) {
    j["batch"] = a.batch;
  } else {
    j["tokens"] = a.tokens;
    j["heads"] = a.heads;
    j["model"] = a.model;
  }
  // Axes a block does not use are left out (reset_unused_axes keeps them at their defaults).
  if (a.model.empty()) j["head_dim"] = a.head_dim;
  if (std::find(a.op.begin(), a.op.end(), Op::kExchange) != a.op.end())
    j["stats_dim"] = a.stats_dim;
  j["lse_base"] = names_of<OJ>(a.lse_base);
  j["dtype"] = names_of<OJ>(a.dtype);
  j["cp_size"] = a.cp_size;
  // An empty impl axis stands for the catalog's default set, which the report layer does not
  // know: it is left out (reading keeps the base's), and resolved sweeps always name theirs.
  if (!a.impl.empty()) j["impl"] = a.impl;
  j["workspace"] = names_of<OJ>(a.workspace);
  j["launch"] = names_of<OJ>(a.launch);
  OJ pdl = OJ::array();
  for (bool p : a.pdl)
    pdl.push_back(p ? "on" : "off");
  j["pdl"] = pdl;
  return j;
}

}  // namespace

void check_explicit_shape(const SweepAxes& a, bool head_dim_given, bool stats_dim_given) {
  if (head_dim_given) {
    for (const auto& name : a.model) {
      const ModelPreset& m = model_at(name);
      for (int d : a.head_dim) {
        if (d != m.head_dim) {
          throw ConfigError(fmt::format(
              "head_dim: {} contradicts model {} (D = {}); accepted: {} or no head_dim with "
              "that model",
              d, m.name, m.head_dim, m.head_dim));
        }
      }
    }
  }
  const bool exchange = std::find(a.op.begin(), a.op.end(), Op::kExchange) != a.op.end();
  if (stats_dim_given && !exchange) {
    throw ConfigError(
        "stats_dim: does not apply to op reduce (one fp32 LSE per row); accepted: stats_dim with "
        "op exchange only");
  }
}

void reset_unused_axes(SweepAxes& a) {
  const SweepAxes d;
  if (!a.tokens.empty()) a.batch = d.batch;
  if (!a.model.empty()) a.head_dim = d.head_dim;
  if (std::find(a.op.begin(), a.op.end(), Op::kExchange) == a.op.end()) a.stats_dim = d.stats_dim;
}

const std::vector<std::string>& spec_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k = axis_keys();
    for (const char* m : {"blocks", "warmup", "iters", "graph_calls", "ring", "seed", "timeout_s",
                          "stress", "inject", "allow_unvalidated_path"})
      k.emplace_back(m);
    return k;
  }();
  return keys;
}

nlohmann::ordered_json spec_to_json(const SweepSpec& spec) {
  const MeasureOptions& m = spec.measure;
  nlohmann::ordered_json j = axes_to_json(spec.axes);
  if (!spec.blocks.empty()) {
    nlohmann::ordered_json blocks = nlohmann::ordered_json::array();
    for (const SweepAxes& b : spec.blocks)
      blocks.push_back(axes_to_json(b));
    j["blocks"] = std::move(blocks);
  }
  j["warmup"] = m.warmup;
  j["iters"] = m.iters;
  j["graph_calls"] = m.graph_calls;
  j["ring"] = m.ring;
  j["seed"] = m.seed;
  j["timeout_s"] = m.timeout_s;
  j["stress"] = m.stress_calls;
  if (m.inject) j["inject"] = to_string(*m.inject);
  if (m.allow_unvalidated_path) j["allow_unvalidated_path"] = true;
  return j;
}

SweepSpec spec_from_json(const nlohmann::json& j, const SweepSpec& base, std::string_view origin) {
  if (!j.is_object()) {
    throw ConfigError(
        fmt::format("config: {} must hold a JSON object, got {}", origin, type_name(j)));
  }
  refuse_unknown_keys(j, spec_keys(), "", origin);
  SweepSpec s = base;
  MeasureOptions& m = s.measure;
  auto has = [&](const char* k) { return j.contains(k); };

  bool shape = false;
  for (const auto& [key, value] : j.items())
    shape = shape || is_shape_key(key);
  apply_axes(j, s.axes);
  if (has("blocks")) {
    const json& list = j.at("blocks");
    if (!list.is_array() || list.empty()) {
      throw ConfigError(fmt::format(
          "blocks: {} is not allowed; accepted: a non-empty list of objects with the axis keys",
          short_dump(list)));
    }
    s.blocks.clear();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const json& b = list[i];
      const std::string where = fmt::format("blocks[{}] of ", i + 1);
      if (!b.is_object()) {
        throw ConfigError(fmt::format("blocks: entry {} of {} is {}; accepted: objects", i + 1,
                                      origin, type_name(b)));
      }
      refuse_unknown_keys(b, axis_keys(), where, origin);
      SweepAxes block = s.axes;
      try {
        apply_axes(b, block);
        validate_axes(block);
      } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("blocks[{}]: {}", i + 1, e.what()));
      }
      s.blocks.push_back(std::move(block));
    }
  } else if (shape) {
    s.blocks.clear();  // the file states its own sweep
  } else {
    for (SweepAxes& b : s.blocks)
      apply_axes(j, b);  // how and where to run: every block of the base
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
  if (has("allow_unvalidated_path")) {
    const auto& v = j.at("allow_unvalidated_path");
    if (!v.is_boolean()) {
      throw ConfigError(fmt::format(
          "allow_unvalidated_path: {} is not allowed; accepted: true|false", short_dump(v)));
    }
    m.allow_unvalidated_path = v.get<bool>();
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
