#include "core/sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <type_traits>

#include "core/error.hpp"
#include "core/models.hpp"

namespace dcp {

namespace {

template <typename T>
void require_non_empty(const std::vector<T>& v, const char* field, const std::string& accepted) {
  if (v.empty()) {
    throw ConfigError(fmt::format("{}: empty list; accepted: one or more of {}", field, accepted));
  }
}

std::string spell(bool v) {
  return v ? "on" : "off";
}
std::string spell(const std::string& v) {
  return "'" + v + "'";
}
template <typename T>
std::string spell(const T& v) {
  if constexpr (std::is_enum_v<T>) {
    return std::string(to_string(v));
  } else {
    return fmt::format("{}", v);
  }
}

/// A list names each value once: a repeated value would run (and report) the same cases twice.
template <typename T>
void require_distinct(const std::vector<T>& v, const char* field) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (v[i] == v[j]) {
        throw ConfigError(
            fmt::format("{}: {} is listed twice (entries {} and {}); accepted: each value once",
                        field, spell(v[i]), j + 1, i + 1));
      }
    }
  }
}

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

/// Implementation names are identifiers: letters, digits, '-', '_', '.'.
bool is_name(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char ch) {
    return std::isalnum(ch) != 0 || ch == '-' || ch == '_' || ch == '.';
  });
}

/// `s` for a one-line message: bytes outside printable ASCII as '?', cut to 40 characters.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char ch : s.substr(0, 40))
    out += ch >= 0x20 && ch < 0x7f ? static_cast<char>(ch) : '?';
  return s.size() > 40 ? out + "..." : out;
}

}  // namespace

std::vector<std::string> effective_impls(const SweepAxes& axes, const ImplCatalog& catalog) {
  if (!axes.impl.empty()) return axes.impl;
  return catalog.default_names();
}

namespace {

/// tokens, heads, model: the user's vocabulary and its consistency.
void validate_shape_vocabulary(const SweepAxes& a) {
  for (auto t : a.tokens) {
    if (t < 1)
      throw ConfigError(fmt::format("tokens: {} is not allowed; accepted: integers >= 1", t));
  }
  for (int h : a.heads) {
    if (h < 1) {
      throw ConfigError(fmt::format("heads: {} is not allowed; accepted: integers >= 1", h));
    }
  }
  for (const auto& name : a.model)
    (void)model_at(name);  // ConfigError naming `model` and the presets for an unknown name
  if (!a.tokens.empty() && a.heads.empty() && a.model.empty()) {
    throw ConfigError(fmt::format(
        "heads: tokens are given without heads per rank; accepted: --heads LIST (heads per "
        "rank) or --model NAME ({})",
        accepted_models()));
  }
  if (a.tokens.empty() && (!a.heads.empty() || !a.model.empty())) {
    throw ConfigError(fmt::format(
        "tokens: {} given without tokens; accepted: --tokens LIST (decode tokens, integers >= 1)",
        a.model.empty() ? "heads per rank are" : "a model is"));
  }
  for (const auto& name : a.model) {
    for (int h : a.heads)
      check_model_heads(model_at(name), h);
  }
  std::vector<int> heads = a.heads;
  for (const auto& name : a.model)
    heads.push_back(model_at(name).heads_per_rank);
  for (auto t : a.tokens) {
    for (int h : heads) {
      std::int64_t e = 0;
      if (__builtin_mul_overflow(t, static_cast<std::int64_t>(h), &e)) {
        throw ConfigError(fmt::format(
            "tokens: {} tokens x {} heads overflows 64 bits; accepted: fewer tokens", t, h));
      }
    }
  }
}

}  // namespace

void validate_axes(const SweepAxes& a) {
  require_non_empty(a.op, "op", accepted_ops());
  require_non_empty(a.batch, "batch", "integers >= 0");
  require_non_empty(a.head_dim, "head_dim", "positive multiples of 8");
  require_non_empty(a.stats_dim, "stats_dim", "even integers >= 2");
  require_non_empty(a.dtype, "dtype", accepted_dtypes());
  require_non_empty(a.workspace, "workspace", accepted_workspaces());
  require_non_empty(a.launch, "launch", accepted_launches());
  require_non_empty(a.pdl, "pdl", "on|off");
  require_distinct(a.op, "op");
  require_distinct(a.batch, "batch");
  require_distinct(a.tokens, "tokens");
  require_distinct(a.heads, "heads");
  require_distinct(a.model, "model");
  require_distinct(a.lse_base, "lse_base");
  require_distinct(a.head_dim, "head_dim");
  require_distinct(a.stats_dim, "stats_dim");
  require_distinct(a.dtype, "dtype");
  require_distinct(a.cp_size, "cp_size");
  require_distinct(a.impl, "impl");
  require_distinct(a.workspace, "workspace");
  require_distinct(a.launch, "launch");
  require_distinct(a.pdl, "pdl");

  for (auto b : a.batch) {
    if (b < 0) {
      throw ConfigError(fmt::format("batch: {} is negative; accepted: integers >= 0", b));
    }
  }
  for (int d : a.head_dim) {
    if (d <= 0) {
      throw ConfigError(
          fmt::format("head_dim: {} is not positive; accepted: positive integers "
                      "with head_dim x element size a multiple of 16 bytes",
                      d));
    }
    for (DType t : a.dtype) {
      const auto bytes = static_cast<std::uint64_t>(d) * element_bytes(t);
      if (bytes % 16 != 0) {
        throw ConfigError(fmt::format(
            "head_dim: {} x {} bytes ({}) = {} bytes is not a multiple of 16; accepted: "
            "head_dim a multiple of {} for {}",
            d, element_bytes(t), to_string(t), bytes, 16 / element_bytes(t), to_string(t)));
      }
    }
  }
  for (int s : a.stats_dim) {
    if (s < 2 || s % 2 != 0) {
      throw ConfigError(
          fmt::format("stats_dim: {} is not allowed; accepted: even integers >= 2", s));
    }
  }
  for (int cp : a.cp_size) {
    if (cp < 1 || cp > kMaxCpSize) {
      throw ConfigError(
          fmt::format("cp_size: {} is out of range; accepted: 1..{}", cp, kMaxCpSize));
    }
  }
  for (const auto& name : a.impl) {
    if (blank(name)) {
      throw ConfigError("impl: an entry of the list is empty; accepted: implementation names");
    }
    if (!is_name(name)) {
      throw ConfigError(fmt::format(
          "impl: '{}' is not an implementation name; accepted: names made of letters, digits, "
          "'-', '_' and '.'",
          printable(name)));
    }
  }
  validate_shape_vocabulary(a);
}

void validate(const SweepSpec& spec) {
  validate_axes(spec.axes);
  for (const SweepAxes& b : spec.blocks)
    validate_axes(b);

  const MeasureOptions& m = spec.measure;
  if (m.warmup < 0) {
    throw ConfigError(fmt::format("warmup: {} is negative; accepted: integers >= 0", m.warmup));
  }
  if (m.iters <= 0) {
    throw ConfigError(fmt::format("iters: {} is not positive; accepted: integers >= 1", m.iters));
  }
  if (m.graph_calls <= 0) {
    throw ConfigError(
        fmt::format("graph_calls: {} is not positive; accepted: integers >= 1", m.graph_calls));
  }
  if (m.ring < kMinRingSize) {
    throw ConfigError(
        fmt::format("ring: {} is too small; accepted: integers >= {}", m.ring, kMinRingSize));
  }
  if (!(m.timeout_s > 0.0) || m.timeout_s > kMaxTimeoutS) {
    throw ConfigError(fmt::format("timeout: {} s is not allowed; accepted: seconds in (0, {}]",
                                  m.timeout_s, kMaxTimeoutS));
  }
  if (m.stress_calls < 0) {
    throw ConfigError(
        fmt::format("stress: {} is negative; accepted: integers >= 0 (0 = off)", m.stress_calls));
  }
}

namespace {

void validate_axes_for_world(const SweepAxes& a, int world_size) {
  const bool all_sim = std::all_of(a.workspace.begin(), a.workspace.end(),
                                   [](WorkspaceKind w) { return w == WorkspaceKind::kSim; });
  const bool any_sim = std::any_of(a.workspace.begin(), a.workspace.end(),
                                   [](WorkspaceKind w) { return w == WorkspaceKind::kSim; });
  if (any_sim && !all_sim) {
    throw ConfigError(fmt::format(
        "workspace: sim cannot be mixed with other kinds in one run; accepted: sim alone (one "
        "rank, all cp ranks simulated on its GPU) or any of auto|ipc|fabric"));
  }
  if (all_sim && world_size != 1) {
    throw ConfigError(
        fmt::format("workspace: sim simulates all cp ranks on one GPU and needs one "
                    "process, but the job has {} ranks; accepted: sim with a "
                    "single rank, or auto|ipc|fabric with one rank per GPU",
                    world_size));
  }
  if (!all_sim) {
    for (int cp : a.cp_size) {
      if (cp != world_size) {
        throw ConfigError(fmt::format(
            "cp_size: {} differs from the {} MPI ranks of this job; accepted: {} (the world "
            "size), or any value 1..{} with --workspace sim",
            cp, world_size, world_size, kMaxCpSize));
      }
    }
  }
}

}  // namespace

void validate_for_world(const SweepSpec& spec, int world_size) {
  for (const SweepAxes* a : expanded_axes(spec))
    validate_axes_for_world(*a, world_size);
}

std::vector<const SweepAxes*> expanded_axes(const SweepSpec& spec) {
  std::vector<const SweepAxes*> out;
  if (spec.blocks.empty()) out.push_back(&spec.axes);
  for (const SweepAxes& b : spec.blocks)
    out.push_back(&b);
  return out;
}

std::vector<SweepAxes*> expanded_axes(SweepSpec& spec) {
  std::vector<SweepAxes*> out;
  if (spec.blocks.empty()) out.push_back(&spec.axes);
  for (SweepAxes& b : spec.blocks)
    out.push_back(&b);
  return out;
}

namespace {

/// One shape of a block: where it came from and its geometry (before op, launch and impl).
struct ShapePoint {
  std::string model;
  int head_dim = 0;
  std::optional<LseBase> lse_base;  ///< model's, for reduce cases without an lse_base axis
  std::vector<int> heads;           ///< empty: the batch vocabulary
};

/// The (model, head_dim, heads) groups of a block, in expansion order.
std::vector<ShapePoint> shape_points(const SweepAxes& a) {
  std::vector<ShapePoint> out;
  if (a.tokens.empty()) {
    for (int d : a.head_dim)
      out.push_back(ShapePoint{"", d, std::nullopt, {}});
    return out;
  }
  if (a.model.empty()) {
    for (int d : a.head_dim)
      out.push_back(ShapePoint{"", d, std::nullopt, a.heads});
    return out;
  }
  for (const auto& name : a.model) {
    const ModelPreset& m = model_at(name);
    out.push_back(ShapePoint{name, m.head_dim, m.lse_base,
                             a.heads.empty() ? std::vector<int>{m.heads_per_rank} : a.heads});
  }
  return out;
}

void expand_block(const SweepAxes& a, const ImplCatalog& catalog, int world_size,
                  std::vector<PlannedRun>& out) {
  const std::vector<int> cps = a.cp_size.empty() ? std::vector<int>{world_size} : a.cp_size;
  std::vector<const ImplInfo*> all_rows;
  for (const auto& name : effective_impls(a, catalog))
    all_rows.push_back(&catalog.at(name));
  const std::vector<ShapePoint> shapes = shape_points(a);
  for (Op op : a.op) {
    std::vector<const ImplInfo*> rows;
    for (const ImplInfo* row : all_rows) {
      if (row->ops.contains(op)) rows.push_back(row);
    }
    for (int cp : cps) {
      for (DType dt : a.dtype) {
        for (const ShapePoint& sp : shapes) {
          // exchange: the stats_dim axis; reduce: one LSE per row, and the lse_base axis.
          std::vector<std::pair<int, std::optional<LseBase>>> stats;
          if (op == Op::kExchange) {
            for (int s : a.stats_dim)
              stats.emplace_back(s, std::nullopt);
          } else if (!a.lse_base.empty()) {
            for (LseBase l : a.lse_base)
              stats.emplace_back(1, l);
          } else {
            stats.emplace_back(1, sp.lse_base.value_or(LseBase::kE));
          }
          for (const auto& [s, lse] : stats) {
            // (heads, tokens) pairs, or the batch axis.
            std::vector<std::pair<std::optional<int>, std::int64_t>> sizes;
            if (sp.heads.empty()) {
              for (auto b : a.batch)
                sizes.emplace_back(std::nullopt, b);
            } else {
              for (int h : sp.heads) {
                for (auto t : a.tokens)
                  sizes.emplace_back(h, t);
              }
            }
            for (const auto& [h, n] : sizes) {
              for (LaunchMode lm : a.launch) {
                Case base;
                base.op = op;
                base.cp_size = cp;
                base.model = sp.model;
                if (h) {
                  base.tokens = n;
                  base.heads = *h;
                  base.batch = n * *h;  // validate_axes checked it fits
                } else {
                  base.batch = n;
                }
                base.head_dim = sp.head_dim;
                base.stats_dim = s;
                base.lse_base = lse;
                base.dtype = dt;
                base.launch = lm;
                for (const ImplInfo* row : rows) {
                  const std::vector<std::optional<bool>> pdls =
                      row->traits.uses_pdl
                          ? std::vector<std::optional<bool>>(a.pdl.begin(), a.pdl.end())
                          : std::vector<std::optional<bool>>{std::nullopt};
                  const std::vector<std::optional<WorkspaceKind>> wss =
                      row->traits.uses_workspace
                          ? std::vector<std::optional<WorkspaceKind>>(a.workspace.begin(),
                                                                      a.workspace.end())
                          : std::vector<std::optional<WorkspaceKind>>{std::nullopt};
                  for (const auto& p : pdls) {
                    for (const auto& w : wss) {
                      Case c = base;
                      c.pdl = p;
                      c.workspace = w;
                      out.push_back(PlannedRun{c, std::string(row->name), row});
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace

std::vector<PlannedRun> expand(const SweepSpec& spec, const ImplCatalog& catalog, int world_size) {
  std::vector<PlannedRun> out;
  for (const SweepAxes* a : expanded_axes(spec))
    expand_block(*a, catalog, world_size, out);
  return out;
}

}  // namespace dcp
