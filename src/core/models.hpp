#pragma once
/// @file
/// Model presets (`--model NAME`): the shape of a model's DCP exchange in the user's terms, as
/// configs/models/<name>.json states it (schema in configs/models/README.md). The rows are
/// compiled in from those files at build time (cmake/DcpModelPresets.cmake checks each file and
/// generates them), so no file is looked up at run time.
///
/// A preset fixes D (head_dim) and gives the heads one rank merges at the tensor-parallel size
/// it assumes; `--heads` may name the heads per rank of another TP (a divisor of the model's
/// query heads), `--lse-base` the other LSE convention; `--head-dim` must not contradict it.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"

namespace dcp {

/// One configs/models/*.json file.
struct ModelPreset {
  std::string_view name;           ///< the --model key (the file name without .json)
  std::string_view model;          ///< the model's name and its Hugging Face repository
  std::string_view attention;      ///< "mla" (latent output exchanged) or "gqa"
  int tp = 1;                      ///< tensor-parallel size the preset assumes
  int num_attention_heads = 1;     ///< query heads of the model
  int heads_per_rank = 1;          ///< num_attention_heads / tp: heads one rank merges
  int head_dim = 128;              ///< D, elements per exchanged row
  LseBase lse_base = LseBase::kE;  ///< base of the LSEs the assumed attention kernels return
  DType dtype = DType::kBf16;      ///< element type of the exchanged rows
  std::string_view config_url;     ///< the published config.json the values come from
  std::string_view file;           ///< "configs/models/<name>.json"
};

/// Every compiled-in preset, sorted by name.
std::span<const ModelPreset> model_presets();

/// The preset called `name`, or nullptr.
const ModelPreset* find_model(std::string_view name);

/// The preset called `name`; ConfigError "model: unknown model '...'; accepted: a|b|..."
/// otherwise.
const ModelPreset& model_at(std::string_view name);

/// "a|b|c": every preset name, for messages and --help.
std::string accepted_models();

/// Heads per rank `model` can have: num_attention_heads / tp for every tp dividing the model's
/// query heads, ascending (e.g. 1|2|4|...|128 for 128 heads).
std::vector<int> model_heads_choices(const ModelPreset& model);

/// Refuses `heads` per rank for `model` unless some TP gives it (model_heads_choices);
/// ConfigError naming `heads`, the model and the accepted values.
void check_model_heads(const ModelPreset& model, int heads);

}  // namespace dcp
