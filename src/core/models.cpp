#include "core/models.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"

namespace dcp {

namespace detail {
// Generated from configs/models/*.json (cmake/DcpModelPresets.cmake).
extern const ModelPreset kModelPresetRows[];
extern const std::size_t kModelPresetCount;
}  // namespace detail

std::span<const ModelPreset> model_presets() {
  return {detail::kModelPresetRows, detail::kModelPresetCount};
}

const ModelPreset* find_model(std::string_view name) {
  for (const ModelPreset& m : model_presets()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string accepted_models() {
  std::string out;
  for (const ModelPreset& m : model_presets()) {
    if (!out.empty()) out += '|';
    out += m.name;
  }
  return out;
}

const ModelPreset& model_at(std::string_view name) {
  if (const ModelPreset* m = find_model(name)) return *m;
  std::string shown;
  for (unsigned char ch : name.substr(0, 40))
    shown += ch >= 0x20 && ch < 0x7f ? static_cast<char>(ch) : '?';
  throw ConfigError(
      fmt::format("model: unknown model '{}'; accepted: {}", shown, accepted_models()));
}

std::vector<int> model_heads_choices(const ModelPreset& model) {
  std::vector<int> out;
  for (int tp = model.num_attention_heads; tp >= 1; --tp) {
    if (model.num_attention_heads % tp == 0) out.push_back(model.num_attention_heads / tp);
  }
  return out;
}

void check_model_heads(const ModelPreset& model, int heads) {
  const std::vector<int> ok = model_heads_choices(model);
  if (std::find(ok.begin(), ok.end(), heads) != ok.end()) return;
  std::string accepted;
  for (int h : ok) {
    if (!accepted.empty()) accepted += '|';
    accepted += std::to_string(h);
  }
  throw ConfigError(fmt::format(
      "heads: {} heads per rank matches no tensor-parallel size of model {} ({} query heads, "
      "{} per rank at its TP {}); accepted: {}",
      heads, model.name, model.num_attention_heads, model.heads_per_rank, model.tp, accepted));
}

}  // namespace dcp
