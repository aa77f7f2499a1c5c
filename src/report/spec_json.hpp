#pragma once
/// @file
/// SweepSpec <-> JSON. The same format serves sweep config files (configs/*.json) and the
/// "config" section of every report, so a report's config can be run again as it is.
///
/// Format (every key optional; an axis takes a value or a list of values):
///   {"name": "...", "description": "...",
///    "batch": [1, 16], "head_dim": 128, "stats_dim": [2], "dtype": ["bf16", "fp16"],
///    "cp_size": [2, 4], "impl": ["native", "nccl-2x"], "workspace": "auto",
///    "launch": ["eager", "graph"], "pdl": ["on", "off"],
///    "warmup": 50, "iters": 1000, "graph_calls": 20, "ring": 5, "seed": 123,
///    "timeout_s": 10, "stress": 0, "inject": "skip-launch:1"}
/// Shapes in the user's terms (issue 15): "op": ["exchange", "reduce"], "tokens": [1, 64],
/// "heads": [16] (per rank), "model": ["deepseek-v3"] (configs/models/), "lse_base": ["e", "2"];
/// "batch" and "tokens" are two vocabularies (one per object). "blocks": [{...}, {...}] holds
/// sub-sweeps, each starting from the top level's axes with its own axis keys applied, expanded
/// one after the other (an exchange block and a reduce block in one file). Measurement options
/// (warmup ... allow_unvalidated_path) are the top level's only: they apply to every block.
/// Applied on a base with blocks, a file that sets a shape key (op, batch, tokens, heads, model,
/// head_dim, stats_dim, lse_base) at its top level replaces the base's blocks; one that sets
/// only other axes (cp_size, dtype, impl, workspace, launch, pdl) changes every block.
/// Parsing is strict: an unknown key, a wrong type or an invalid value is a ConfigError naming
/// the field, the value and what is accepted.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/sweep.hpp"

namespace dcp::report {

/// Keys a config file may contain, in the order they are written.
const std::vector<std::string>& spec_keys();

/// Refuses an explicitly given head_dim that contradicts one of `a`'s models, and an explicitly
/// given stats_dim when `a` computes no exchange (op reduce only). ConfigError naming the field.
/// Used for config objects and for flags alike.
void check_explicit_shape(const SweepAxes& a, bool head_dim_given, bool stats_dim_given);

/// Resets the axes `a` does not use to their defaults, so that equal sweeps compare equal and a
/// spec reads back as written: batch when tokens are given, head_dim when models give it,
/// stats_dim when no exchange is computed. spec_to_json leaves those out.
void reset_unused_axes(SweepAxes& a);

/// Serialises every field of `spec` (axes and measurement options).
nlohmann::ordered_json spec_to_json(const SweepSpec& spec);

/// Applies the keys present in `j` on top of `base` (absent keys keep base's values) and
/// validates the result. `origin` names the source in messages (e.g. a file path).
SweepSpec spec_from_json(const nlohmann::json& j, const SweepSpec& base, std::string_view origin);

/// Parses config text with the one JSON reader (report/json_read.hpp: depth bound, duplicate
/// keys and out-of-range numbers refused); errors are ConfigErrors "config: '<origin>': ...".
nlohmann::json parse_json_text(std::string_view text, std::string_view origin);

/// Reads and parses a config file; unreadable or invalid → ConfigError naming the path.
nlohmann::json read_json_file(const std::string& path);

}  // namespace dcp::report
